package rules

import (
	"bytes"
	"io/fs"
	"os"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/rules/internal/rulefile"
)

// builtinDir holds the built-in rule files.
var builtinDir = os.DirFS("builtin")

// decodeBuiltin decodes the built-in files as the generator does.
func decodeBuiltin(t *testing.T) []rulefile.File {
	t.Helper()
	files, err := rulefile.DecodeFS(builtinDir)
	if err != nil || len(files) == 0 {
		t.Fatalf("built-in files: %d, %v", len(files), err)
	}
	return files
}

// loadFS builds the rules of every *.yaml file of fsys, in name order,
// as Load builds the built-in ones from builtinFiles.
func loadFS(fsys fs.FS) ([]*Rule, error) {
	files, err := rulefile.DecodeFS(fsys)
	if err != nil {
		return nil, locate(err)
	}
	return buildFiles(files)
}

// builtin_gen.go must hold what builtin/*.yaml says: editing a YAML file
// without regenerating fails here.
func TestBuiltinGenUpToDate(t *testing.T) {
	files := decodeBuiltin(t)
	if diff := cmp.Diff(files, builtinFiles); diff != "" {
		t.Fatalf("builtin_gen.go is out of date with builtin/*.yaml; run go generate ./rules (-yaml +generated):\n%s", diff)
	}
	want, err := rulefile.GoSource("rules", "builtinFiles", "builtin/*.yaml", files)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("builtin_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		line := 1 + bytes.Count(want[:commonPrefix(want, got)], []byte("\n"))
		t.Errorf("builtin_gen.go differs from what the generator writes, from line %d; run go generate ./rules", line)
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// Every Load gets rules of its own: changing one set's rules does not
// reach the data the next Load builds from.
func TestBuiltinGenLoadsDoNotShare(t *testing.T) {
	first, err := Load(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range first.Rules() {
		r.Remediation[0] = "changed"
		r.Diagnostics[0] = "changed"
		if len(r.Errno) > 0 {
			r.Errno[0] = -1
		}
		if len(r.Explains) > 0 {
			r.Explains[0] = "changed"
		}
		for _, ex := range r.Examples {
			for k := range ex.Captures {
				ex.Captures[k] = "changed"
			}
		}
	}
	second, err := Load(false)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := loadFS(builtinDir)
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{
		cmp.AllowUnexported(Rule{}, Template{}, tmplPart{}),
		cmp.Comparer(func(a, b *regexp.Regexp) bool { return a.String() == b.String() }),
	}
	if diff := cmp.Diff(merge(fromYAML, nil).Rules(), second.Rules(), opts); diff != "" {
		t.Errorf("a change to loaded rules reached the next Load (-yaml +second load):\n%s", diff)
	}
}
