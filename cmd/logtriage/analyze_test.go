package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/logtriage/logtriage/internal/corpustest"
	"github.com/logtriage/logtriage/report"
)

// TestAnalyzeCorpus runs the real command, `analyze --format json` over
// each corpus scenario's logs, and holds its JSON to the truth: one
// incident per true incident, right family, window within 2 s, nothing
// else at error or above. The php-fpm saturation scenario must name the
// pool's max_children as root cause (part of the truth families).
func TestAnalyzeCorpus(t *testing.T) {
	dirs, err := corpustest.Scenarios(filepath.Join("..", "..", "testdata", "corpus"))
	if err != nil || len(dirs) < 11 {
		t.Fatalf("scenarios: %d, %v", len(dirs), err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
			var stdout, stderr bytes.Buffer
			args := append([]string{"--tz", "UTC", "analyze", "--format", "json"}, logs...)
			code := run(context.Background(), args, nil, &stdout, &stderr)
			if code != exitOK && code != exitFindings {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			var doc report.AnalysisJSON
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			if doc.Schema != "logtriage/v1" || len(doc.Inputs) != len(logs) {
				t.Errorf("schema %q, inputs %v", doc.Schema, doc.Inputs)
			}
			var got []corpustest.Got
			worst := ""
			for _, in := range doc.Incidents {
				start, err1 := time.Parse(time.RFC3339, in.Start)
				end, err2 := time.Parse(time.RFC3339, in.End)
				if err1 != nil || err2 != nil {
					t.Fatalf("times %q %q", in.Start, in.End)
				}
				got = append(got, corpustest.Got{ID: in.ID, RootCauseID: in.RootCause.RuleID, Severity: in.Severity, Start: start, End: end,
					Describe: fmt.Sprintf("%s %s %s", in.ID, in.Subject, in.RootCause.RuleID)})
				if in.Severity == "critical" || in.Severity == "error" && worst != "critical" {
					worst = in.Severity
				}
			}
			truth, err := corpustest.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range corpustest.Check(truth, got) {
				t.Error(p)
			}
			// --fail-on error: exit 1 exactly when an incident is error or worse.
			if want := map[bool]int{true: exitFindings, false: exitOK}[worst != ""]; code != want {
				t.Errorf("exit %d, want %d", code, want)
			}
		})
	}
}
