package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/rules/internal/rulefile"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	texts := map[string]string{
		"b.yaml": "rules:\n  - id: b.one\n    examples:\n      - line: x\n",
		"a.yaml": "# first\nrules:\n  - id: a.one\n",
	}
	for name, text := range texts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "gen.go")
	if err := run(dir, out, "rules", "builtinFiles"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The files in name order, with their lines.
	want, err := rulefile.GoSource("rules", "builtinFiles", filepath.ToSlash(filepath.Join(dir, "*.yaml")), []rulefile.File{
		{Name: "a.yaml", Rules: []rulefile.Rule{{LineNo: 3, ID: "a.one"}}},
		{Name: "b.yaml", Rules: []rulefile.Rule{{LineNo: 2, ID: "b.one", Examples: []rulefile.Example{{LineNo: 4, Line: "x"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	f, err := parser.ParseFile(token.NewFileSet(), out, got, parser.ParseComments)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	if !strings.HasPrefix(string(got), "// Code generated ") || !strings.Contains(string(got), "; DO NOT EDIT.\n") || f.Name.Name != "rules" {
		t.Errorf("output lacks the generated-code header or package rules:\n%s", got)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no files", nil, "no *.yaml files in "},
		{"unknown key", map[string]string{"a.yaml": "rules:\n  - id: a.one\n    colour: red\n"}, "a.yaml: line 3: field colour not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(dir, "gen.go")
			err := run(dir, out, "rules", "builtinFiles")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was written despite the error")
			}
		})
	}
}
