package rules

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/logtriage/logtriage/parser"
)

// FuzzLoad feeds arbitrary rule files to the loader: it must return rules
// or a located error, never panic, and what it accepts must be usable.
func FuzzLoad(f *testing.F) {
	good, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("rules: []\n"))
	f.Add([]byte("rules:\n  - id: a.b\n    disabled: true\n"))
	// The first rule of each built-in file.
	names, _ := fs.Glob(builtinDir, "*.yaml")
	for _, n := range names {
		data, _ := fs.ReadFile(builtinDir, n)
		s := string(data)
		if i := strings.Index(s, "\n  - id:"); i >= 0 {
			if j := strings.Index(s[i+1:], "\n  - id:"); j >= 0 {
				f.Add([]byte(s[:i+1+j+1]))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := parseFile("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		set := merge(nil, rs)
		e := &parser.Entry{Server: parser.Nginx, Level: parser.LevelError, Message: "connect() failed (111: Connection refused)"}
		set.Match(e)
		set.Check()
	})
}
