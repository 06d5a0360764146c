package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// Tests that must kill logtriage run the test binary as logtriage.
	if os.Getenv("LOGTRIAGE_TEST_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"logtriage": func() {
			os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs the end-to-end tests in testdata/script: real files,
// the real binary entry point, exit codes and output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			env.Setenv("TZ", "UTC")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N cmd args...: run cmd and require exit status N.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N command [args...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("exitcode: %v", err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("exit status %d, want %d", got, want)
				}
			},
			// gzip FILE: write FILE.gz.
			"gzip": func(ts *testscript.TestScript, neg bool, args []string) {
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write([]byte(ts.ReadFile(args[0])))
				zw.Close()
				ts.Check(os.WriteFile(ts.MkAbs(args[0]+".gz"), b.Bytes(), 0o644))
			},
			// truncate FILE -N: drop the last N bytes of FILE.
			"truncate": func(ts *testscript.TestScript, neg bool, args []string) {
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				st, err := os.Stat(ts.MkAbs(args[0]))
				ts.Check(err)
				if n >= 0 || st.Size()+int64(n) < 0 {
					ts.Fatalf("truncate: want -N with N below the size %d", st.Size())
				}
				ts.Check(os.Truncate(ts.MkAbs(args[0]), st.Size()+int64(n)))
			},
			// escapes FILE: interpret Go escapes (\x1b, \a, \") in each line
			// of FILE, to write bytes a txtar file cannot hold.
			"escapes": func(ts *testscript.TestScript, neg bool, args []string) {
				var out []string
				for _, l := range strings.Split(ts.ReadFile(args[0]), "\n") {
					u, err := strconv.Unquote(`"` + l + `"`)
					ts.Check(err)
					out = append(out, u)
				}
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(out, "\n")), 0o644))
			},
			// binfile FILE: write bytes a text file cannot hold: NUL,
			// invalid UTF-8, CR, a 3 MiB line, ANSI escapes.
			"binfile": func(ts *testscript.TestScript, neg bool, args []string) {
				var b bytes.Buffer
				b.WriteString("\x00\x01\x02\xff\xfe binary\r\n")
				b.WriteString("2026/11/21 19:24:19 [error] 1#1: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: api.test\r\n")
				b.Write(bytes.Repeat([]byte{'A'}, 3<<20))
				b.WriteString("\n2026/11/21 19:24:20 [error] 1#1: *2 \x1b[31mred\x1b]0;title\x07 \xc3\x28 invalid utf-8\n")
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o644))
			},
		},
	})
}
