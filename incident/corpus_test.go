package incident

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

type truthFile struct {
	Incidents []struct {
		Kind     string `json:"kind"`
		Upstream string `json:"upstream"`
		Start    string `json:"start"`
		End      string `json:"end"`
		Produced bool   `json:"produced"`
	} `json:"incidents"`
}

// families maps a truth incident kind to the rule ids that name it; the
// incident's root cause must be one of them.
var families = map[string]*regexp.Regexp{
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

// analyzeDir runs the engine over every log of a corpus scenario, merged
// by time, and returns the final incidents.
func analyzeDir(t *testing.T, dir string, cfg Config) []*Incident {
	t.Helper()
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	type rec struct {
		e parser.Entry
		i int
	}
	var all []rec
	for fi, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		parser.Scan(f, parser.Options{File: filepath.Base(name), Location: time.UTC}, func(e *parser.Entry) {
			all = append(all, rec{*e, fi})
		})
		f.Close()
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].e.Time.Before(all[b].e.Time) })
	var out []*Incident
	cfg.Final = func(in *Incident) { out = append(out, in) }
	eng := New(cfg)
	for i := range all {
		e := &all[i].e
		if m, ok := set.Match(e); ok {
			eng.Add(e, &m)
		} else {
			eng.Add(e, nil)
		}
	}
	eng.Flush()
	return out
}

func loadTruth(t *testing.T, dir string) truthFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr truthFile
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestCorpusIncidents is the contract with reality: for every scenario the
// real servers logged, exactly one incident per true incident, of the
// right family, within 2 s of the true window, and no other incident at
// error severity or above.
func TestCorpusIncidents(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "testdata", "corpus", "*"))
	n := 0
	for _, dir := range dirs {
		if st, err := os.Stat(filepath.Join(dir, "truth.json")); err != nil || st.IsDir() {
			continue
		}
		n++
		for _, withConfig := range []bool{false, true} {
			name := filepath.Base(dir)
			cfg := Config{}
			if withConfig {
				name += "/fpm-config"
				f, err := os.Open(filepath.Join(dir, "config-php-fpm.conf"))
				if err != nil {
					continue
				}
				cfg.Pools, err = ParsePoolConfig(f, "config-php-fpm.conf")
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			t.Run(name, func(t *testing.T) {
				checkScenario(t, dir, cfg)
			})
		}
	}
	if n < 11 {
		t.Fatalf("found %d corpus scenarios, want 11", n)
	}
}

func checkScenario(t *testing.T, dir string, cfg Config) {
	got := analyzeDir(t, dir, cfg)
	truth := loadTruth(t, dir)
	used := map[*Incident]bool{}
	for _, ti := range truth.Incidents {
		if !ti.Produced {
			continue
		}
		fam := families[ti.Kind]
		if fam == nil {
			t.Fatalf("no family for truth kind %q", ti.Kind)
		}
		start, _ := time.Parse("2006-01-02T15:04:05", ti.Start)
		end, _ := time.Parse("2006-01-02T15:04:05", ti.End)
		var matches []*Incident
		for _, in := range got {
			if fam.MatchString(in.RootCause.RuleID) && near(in.Start, start) && near(in.End, end) {
				matches = append(matches, in)
			}
		}
		if len(matches) != 1 {
			t.Errorf("truth %s %s %s..%s: %d matching incidents, want 1", ti.Kind, ti.Upstream, ti.Start, ti.End, len(matches))
			continue
		}
		used[matches[0]] = true
	}
	for _, in := range got {
		if !used[in] && in.Severity >= rules.SeverityError {
			t.Errorf("extra incident at %s: %s %s %s..%s root %s rules %v", in.Severity, in.Group, in.Subject,
				in.Start.Format("15:04:05"), in.End.Format("15:04:05"), in.RootCause.RuleID, in.RuleIDs())
		}
	}
	if t.Failed() {
		for _, in := range got {
			t.Logf("got %s %-9s %s %s %s..%s root %s pools %v rules %v", in.ID, in.Severity, in.Group, in.Subject,
				in.Start.Format("15:04:05"), in.End.Format("15:04:05"), in.RootCause.RuleID, in.Pools, in.CountsByRule)
		}
	}
}

func near(a, b time.Time) bool {
	d := a.Sub(b)
	return d <= 2*time.Second && d >= -2*time.Second
}

func TestParsePoolConfig(t *testing.T) {
	conf := "[global]\nlisten = /nope\n[www]\nlisten = /run/php/php8.2-fpm.sock\n; listen = 1\n[api]\nlisten = 9000\n[v6]\nlisten = [::]:9001\n[ip]\nlisten = 10.0.0.5:9002\n"
	got, err := ParsePoolConfig(strings.NewReader(conf), "x.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"www": "unix:/run/php/php8.2-fpm.sock", "api": "127.0.0.1:9000", "v6": "127.0.0.1:9001", "ip": "10.0.0.5:9002"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}
