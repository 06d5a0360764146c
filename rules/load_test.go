package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func writeRules(t *testing.T, text string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "user.yaml")
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func goodRules(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadGoodFileAndExamples(t *testing.T) {
	s, err := Load(true, "testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Rules()); got != 2 {
		t.Fatalf("loaded %d rules, want 2", got)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Fatalf("examples fail: %v", errs)
	}
	r := s.Rule("test.upstream.refused")
	if r == nil || r.Source != "testdata/good.yaml:2" {
		t.Fatalf("rule source = %v, want testdata/good.yaml:2", r)
	}
	if got, want := r.Examples[1].Source, "testdata/good.yaml:20"; got != want {
		t.Errorf("example source = %s, want %s", got, want)
	}
}

// The loader must reject bad files with the file and line of the problem.
func TestLoadErrorsNameFileAndLine(t *testing.T) {
	good := goodRules(t)
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", strings.Replace(good, "    generic: true\n", "    generic: true\n    colour: red\n", 1), ":36: field colour not found"},
		{"bad regexp", strings.Replace(good, `'failed \((?P<errno>\d+): '`, `'failed \((?P<errno>\d+: '`, 1), ":23: rule test.upstream.generic: pattern: error parsing regexp"},
		{"bad severity", strings.Replace(good, "severity: critical", "severity: dire", 1), ":2: rule test.upstream.refused: severity: \"dire\""},
		{"unknown server", strings.Replace(good, "servers: [nginx]", "servers: [lighttpd]", 1), ":2: rule test.upstream.refused: servers: unknown server \"lighttpd\""},
		{"one example", good[:strings.Index(good, "      - line: '2024/01/15 10:23:45 [error]")] + "\n", ":2: rule test.upstream.refused: examples: 1 given"},
		{"capture not in pattern", strings.Replace(good, `captures: {errno: "24"}`, `captures: {errnum: "24"}`, 1), "no capture \"errnum\""},
		{"unknown template name", strings.Replace(good, "value: 'peer {upstream_peer}'", "value: '{nosuch}'", 1), "unknown name \"nosuch\""},
		{"bad id", strings.Replace(good, "id: test.upstream.refused", "id: Refused", 1), "rule id \"Refused\""},
		{"duplicate id", strings.Replace(good, "id: test.upstream.generic", "id: test.upstream.refused", 1), "defined twice"},
		{"not yaml", "rules: [\n", ":1: did not find expected node content"},
		{"wrong type", "rules:\n  - id: [a]\n", ":2: cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := writeRules(t, tt.text)
			_, err := Load(true, name)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), name) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to start with %s and contain %q", err, name, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(true, "testdata/nosuch.yaml")
	if err == nil || !strings.Contains(err.Error(), "testdata/nosuch.yaml") {
		t.Fatalf("error = %v, want one naming the file", err)
	}
}

// A user rule with a built-in id replaces it in place; a new id goes
// before the built-ins; disabled removes.
func TestMergeOverrideAddDisable(t *testing.T) {
	base, err := loadFS(fstest.MapFS{"good.yaml": {Data: []byte(goodRules(t))}})
	if err != nil {
		t.Fatal(err)
	}
	override := strings.Replace(goodRules(t), "title: Something failed", "title: Overridden", 1)
	override = override[strings.Index(override, "  - id: test.upstream.generic"):]
	user, err := parseFile("user.yaml", []byte("rules:\n"+override+
		"  - id: test.upstream.refused\n    disabled: true\n"+
		strings.Replace(override, "id: test.upstream.generic", "id: test.extra.added", 1)))
	if err != nil {
		t.Fatal(err)
	}
	s := merge(base, user)
	var ids []string
	for _, r := range s.Rules() {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"test.extra.added", "test.upstream.generic"}, ids); diff != "" {
		t.Errorf("rule order (-want +got):\n%s", diff)
	}
	if got := s.Rule("test.upstream.generic").Title; got != "Overridden" {
		t.Errorf("title = %q, want the override's", got)
	}
}

func TestCheckExampleReportsShadowing(t *testing.T) {
	text := goodRules(t)
	// Put the generic rule first: it now shadows the specific one.
	i := strings.Index(text, "  - id: test.upstream.generic")
	swapped := "rules:\n" + text[i:] + text[len("rules:\n"):i]
	s, err := Load(true, writeRules(t, swapped))
	if err != nil {
		t.Fatal(err)
	}
	errs := s.Check()
	if len(errs) == 0 {
		t.Fatal("shadowed examples passed")
	}
	if !strings.Contains(errs[0].Error(), "matched first by test.upstream.generic") {
		t.Errorf("error = %v, want it to name the shadowing rule", errs[0])
	}
}

func TestTemplate(t *testing.T) {
	known := func(string) bool { return true }
	vals := map[string]string{"a": "", "b": "B", "c": "C"}
	get := func(n string) string { return vals[n] }
	for _, tt := range []struct{ tmpl, want string }{
		{"{a|b}", "B"},
		{"{c}", "C"},
		{"x {a|c} y {b}", "x C y B"},
		{"{a}", ""},
		{"plain", "plain"},
	} {
		tm, err := ParseTemplate(tt.tmpl, known)
		if err != nil {
			t.Fatal(err)
		}
		if got := tm.Expand(get); got != tt.want {
			t.Errorf("%q expands to %q, want %q", tt.tmpl, got, tt.want)
		}
	}
	if _, err := ParseTemplate("{open", known); err == nil {
		t.Error("unclosed brace accepted")
	}
}
