package incident

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logtriage/logtriage/internal/corpustest"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

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

// TestCorpusIncidents is the contract with reality: for every scenario the
// real servers logged, exactly one incident per true incident, of the
// right family, within 2 s of the true window, and no other incident at
// error severity or above.
func TestCorpusIncidents(t *testing.T) {
	dirs, err := corpustest.Scenarios(filepath.Join("..", "testdata", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
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
	if len(dirs) < 11 {
		t.Fatalf("found %d corpus scenarios, want 11", len(dirs))
	}
}

func checkScenario(t *testing.T, dir string, cfg Config) {
	got := analyzeDir(t, dir, cfg)
	truth, err := corpustest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var gs []corpustest.Got
	for _, in := range got {
		gs = append(gs, corpustest.Got{ID: in.ID, RootCauseID: in.RootCause.RuleID, Severity: in.Severity.String(), Start: in.Start, End: in.End,
			Describe: fmt.Sprintf("%s %s %s..%s root %s rules %v", in.Group, in.Subject, in.Start.Format("15:04:05"), in.End.Format("15:04:05"), in.RootCause.RuleID, in.RuleIDs())})
	}
	for _, p := range corpustest.Check(truth, gs) {
		t.Error(p)
	}
	if t.Failed() {
		for _, g := range gs {
			t.Logf("got %s %s %s", g.ID, g.Severity, g.Describe)
		}
	}
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
