package rules

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logtriage/logtriage/parser"
)

// TestCorpusCoverage reads every log the real servers wrote in the corpus:
// no record may be left unparsed, and every record that signals trouble
// (nginx and Apache at error or above, php-fpm WARNING and above, every
// slowlog record) must be matched by a specific rule, not only a
// catch-all.
func TestCorpusCoverage(t *testing.T) {
	s := builtinSet(t)
	corpusLogs(t, func(t *testing.T, rel string, f *os.File) {
		var severe, matched int
		st, err := parser.Scan(f, parser.Options{File: rel, Location: time.UTC}, func(e *parser.Entry) {
			if e.Unparsed {
				t.Errorf("%s:%d: unparsed: %q", rel, e.Line, e.Raw)
				return
			}
			if !Severe(e) && e.Format != parser.FormatFPMSlow {
				return
			}
			severe++
			m, ok := s.Match(e)
			switch {
			case !ok:
				t.Errorf("%s:%d: no rule matches %s record: %q", rel, e.Line, e.Level, e.Message)
			case m.Rule.Generic:
				t.Errorf("%s:%d: only the catch-all %s matches: %q", rel, e.Line, m.Rule.ID, e.Message)
			default:
				matched++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Unparsed != 0 || st.Records == 0 {
			t.Errorf("%d records, %d unparsed", st.Records, st.Unparsed)
		}
		t.Logf("%d records, %d that signal trouble, %d matched by a specific rule", st.Records, severe, matched)
	})
}

// corpusLogs runs fn in a subtest, named after the log, with every log of
// the corpus open.
func corpusLogs(t *testing.T, fn func(t *testing.T, rel string, f *os.File)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "corpus", "*", "*.log"))
	if err != nil || len(files) < 15 {
		t.Fatalf("corpus files: %d, %v", len(files), err)
	}
	for _, name := range files {
		rel, _ := filepath.Rel(filepath.Join("..", "testdata", "corpus"), name)
		t.Run(rel, func(t *testing.T) {
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fn(t, rel, f)
		})
	}
}
