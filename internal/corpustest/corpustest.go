// Package corpustest checks incidents against the corpus truth: the
// incidents the real servers' logs in testdata/corpus were made to show.
// Tests of several packages (the engine, the CLI) share it.
package corpustest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Truth is a scenario's truth.json, the fields the checks use.
type Truth struct {
	Incidents []struct {
		Kind     string `json:"kind"`
		Upstream string `json:"upstream"`
		Start    string `json:"start"`
		End      string `json:"end"`
		Produced bool   `json:"produced"`
	} `json:"incidents"`
}

// Got is an incident as the checks see it.
type Got struct {
	ID          string
	RootCauseID string
	Severity    string // severity name
	Start, End  time.Time
	Describe    string // for messages
}

// Families maps a truth incident kind to the rule ids that name it; the
// incident's root cause must be one of them.
var Families = map[string]*regexp.Regexp{
	"upstream-refused":             regexp.MustCompile(`econnrefused|connect_failed\.refused`),
	"fastcgi-upstream-refused":     regexp.MustCompile(`econnrefused`),
	"fastcgi-unix-socket-refused":  regexp.MustCompile(`econnrefused`),
	"upstream-socket-missing":      regexp.MustCompile(`enoent`),
	"fastcgi-socket-missing":       regexp.MustCompile(`enoent`),
	"upstream-read-timeout":        regexp.MustCompile(`timeout\.read_header|status_line_error\.timeout`),
	"fastcgi-read-timeout":         regexp.MustCompile(`timeout\.read_header|dispatch_error\.timeout`),
	"upstream-hung":                regexp.MustCompile(`timeout\.connect|connect_failed\.timeout`),
	"upstream-send-timeout":        regexp.MustCompile(`timeout\.send`),
	"fpm-pool-saturated":           regexp.MustCompile(`^fpm\.pool\.max_children_reached$`),
	"fpm-request-terminated":       regexp.MustCompile(`^fpm\.request\.terminated$`),
	"upstream-header-too-big":      regexp.MustCompile(`too_big_header`),
	"fastcgi-header-too-big":       regexp.MustCompile(`too_big_header`),
	"php-script-not-found":         regexp.MustCompile(`primary_script_unknown`),
	"php-fatal-undefined-function": regexp.MustCompile(`php_fatal|undefined_function`),
	"php-uncaught-exception":       regexp.MustCompile(`uncaught_exception`),
	"php-memory-exhausted":         regexp.MustCompile(`memory_exhausted`),
	"php-parse-error":              regexp.MustCompile(`parse_error`),
	"php-warnings":                 regexp.MustCompile(`php_warning`),
	"static-not-found":             regexp.MustCompile(`file_not_exist|open_failed\.not_found`),
	"static-permission-denied":     regexp.MustCompile(`access_denied_fs|permission_denied`),
	"client-denied":                regexp.MustCompile(`client_denied`),
	"directory-index-forbidden":    regexp.MustCompile(`directory_forbidden|directory_index_forbidden`),
	"internal-redirect-cycle":      regexp.MustCompile(`rewrite\.cycle`),
	"auth-failure":                 regexp.MustCompile(`\.auth\.`),
}

// Scenarios returns the scenario directories under root
// (testdata/corpus).
func Scenarios(root string) ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "*", "truth.json"))
	if err != nil {
		return nil, err
	}
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs, nil
}

// Load reads dir/truth.json.
func Load(dir string) (Truth, error) {
	var tr Truth
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		return tr, err
	}
	return tr, json.Unmarshal(b, &tr)
}

// Check returns one problem per truth incident without exactly one
// matching incident (family of the root cause, start and end within 2 s)
// and per other incident at error severity or above.
func Check(tr Truth, got []Got) []string {
	var problems []string
	used := map[int]bool{}
	for _, ti := range tr.Incidents {
		if !ti.Produced {
			continue
		}
		fam := Families[ti.Kind]
		if fam == nil {
			problems = append(problems, fmt.Sprintf("no family for truth kind %q", ti.Kind))
			continue
		}
		start, _ := time.Parse("2006-01-02T15:04:05", ti.Start)
		end, _ := time.Parse("2006-01-02T15:04:05", ti.End)
		var matches []int
		for i, g := range got {
			if fam.MatchString(g.RootCauseID) && near(g.Start, start) && near(g.End, end) {
				matches = append(matches, i)
			}
		}
		if len(matches) != 1 {
			problems = append(problems, fmt.Sprintf("truth %s %s %s..%s: %d matching incidents, want 1", ti.Kind, ti.Upstream, ti.Start, ti.End, len(matches)))
			continue
		}
		used[matches[0]] = true
	}
	for i, g := range got {
		if !used[i] && (g.Severity == "error" || g.Severity == "critical") {
			problems = append(problems, fmt.Sprintf("extra incident at %s: %s", g.Severity, g.Describe))
		}
	}
	return problems
}

func near(a, b time.Time) bool {
	d := a.Sub(b)
	return d <= 2*time.Second && d >= -2*time.Second
}
