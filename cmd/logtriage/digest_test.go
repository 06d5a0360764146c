package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logtriage/logtriage/state"
)

// digestRun is one in-process run of `logtriage digest`.
type digestRun struct {
	code           int
	stdout, stderr string
}

func runDigest(t *testing.T, args ...string) digestRun {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--tz", "UTC", "digest"}, args...), nil, &out, &errb)
	return digestRun{code, out.String(), errb.String()}
}

// matched is the number of records a JSON digest matched to a rule; an
// empty report (nothing to say) matched none worth saying.
func (r digestRun) matched(t *testing.T) int64 {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("digest exited %d: %s", r.code, r.stderr)
	}
	if r.stdout == "" {
		return 0
	}
	var doc struct {
		Incidents []struct {
			Count int64 `json:"count"`
		} `json:"incidents"`
		Coverage struct {
			Matched int64 `json:"matched"`
		} `json:"coverage"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("digest output is not JSON: %v\n%s", err, r.stdout)
	}
	var inIncidents int64
	for _, in := range doc.Incidents {
		inIncidents += in.Count
	}
	if inIncidents != doc.Coverage.Matched {
		t.Errorf("incidents hold %d records, coverage matched %d", inIncidents, doc.Coverage.Matched)
	}
	return doc.Coverage.Matched
}

// logWriter appends refused-upstream lines, one second apart, to a log.
type logWriter struct {
	t    *testing.T
	path string
	at   time.Time
	n    int
}

func newLogWriter(t *testing.T, path string) *logWriter {
	return &logWriter{t: t, path: path, at: time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)}
}

func (w *logWriter) write(n int) {
	w.t.Helper()
	f, err := os.OpenFile(w.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	for range n {
		w.n++
		w.at = w.at.Add(time.Second)
		fmt.Fprintln(f, refusedLine(w.at, w.n))
	}
}

func gzipFile(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(name+".gz", z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
}

func copyTruncate(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(from, 0); err != nil {
		t.Fatal(err)
	}
}

// TestDigestAcrossRotation: every line written between runs is reported
// by exactly one run, whatever logrotate did in between.
func TestDigestAcrossRotation(t *testing.T) {
	rotations := map[string]func(t *testing.T, log string, w *logWriter){
		"rename+create": func(t *testing.T, log string, w *logWriter) {
			os.Rename(log, log+".1")
		},
		"rename+gzip": func(t *testing.T, log string, w *logWriter) {
			os.Rename(log, log+".1")
			gzipFile(t, log+".1")
		},
		"delaycompress, rotated twice": func(t *testing.T, log string, w *logWriter) {
			os.Rename(log, log+".1")
			w.write(2)
			gzipFile(t, log+".1")
			os.Rename(log+".1.gz", log+".2.gz")
			os.Rename(log, log+".1")
		},
		"dateext+gzip": func(t *testing.T, log string, w *logWriter) {
			os.Rename(log, log+"-20261120")
			gzipFile(t, log+"-20261120")
		},
		"copytruncate": func(t *testing.T, log string, w *logWriter) {
			copyTruncate(t, log, log+".1")
		},
	}
	for name, rotate := range rotations {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "error.log")
			st := filepath.Join(dir, "state.json")
			w := newLogWriter(t, log)
			digest := func() digestRun { return runDigest(t, "--state", st, "--format", "json", log) }

			w.write(5)
			if got := digest().matched(t); got != 5 {
				t.Fatalf("first run matched %d, want 5", got)
			}
			w.write(7)
			rotate(t, log, w)
			w.write(3) // the new log
			if got, want := digest().matched(t), int64(w.n-5); got != want {
				t.Fatalf("run after rotation matched %d, want %d", got, want)
			}
			r := digest()
			if r.code != 0 || r.stdout != "" {
				t.Fatalf("run with nothing new: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			w.write(4)
			if got := digest().matched(t); got != 4 {
				t.Fatalf("last run matched %d, want 4", got)
			}
		})
	}
}

// TestDigestFirstRunSince: the first run looks back --since only.
func TestDigestFirstRunSince(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	w := newLogWriter(t, log)
	w.at = time.Now().UTC().Add(-72 * time.Hour)
	w.write(6) // three days old
	w.at = time.Now().UTC().Add(-time.Hour)
	w.write(2)
	// The state's directory is made on the first run.
	r := runDigest(t, "--state", filepath.Join(dir, "lib", "logtriage", "state.json"), "--format", "json", log)
	if got := r.matched(t); got != 2 {
		t.Errorf("first run with the default --since 24h matched %d, want 2", got)
	}
	r = runDigest(t, "--state", filepath.Join(dir, "other.json"), "--since", "7d", "--format", "json", log)
	if got := r.matched(t); got != 8 {
		t.Errorf("first run with --since 7d matched %d, want 8", got)
	}
}

// TestDigestSilentBelowMinSeverity: nothing worth a mail prints nothing,
// exits 0, and still moves the state on.
func TestDigestSilentBelowMinSeverity(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	st := filepath.Join(dir, "state.json")
	at := time.Now().UTC().Add(-time.Hour).Format("2006/01/02 15:04:05")
	notFound := at + ` [error] 7#7: *1 open() "/srv/www/favicon.ico" failed (2: No such file or directory), client: 10.0.0.9, server: shop.test, request: "GET /favicon.ico HTTP/1.1", host: "shop.test"` + "\n"
	os.WriteFile(log, []byte(notFound), 0o644)
	r := runDigest(t, "--state", st, log)
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("a missing favicon: exit %d, stdout %q, stderr %q; want silence", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(st); err != nil {
		t.Fatalf("a silent run saves its state: %v", err)
	}
	if r := runDigest(t, "--state", st, "--min-severity", "notice", log); r.stdout != "" {
		t.Fatalf("the second run reported the old record again:\n%s", r.stdout)
	}
	w := newLogWriter(t, log)
	w.write(1)
	r = runDigest(t, "--state", st, log)
	if r.code != 0 || !strings.Contains(r.stdout, "refused") {
		t.Fatalf("a refused upstream: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestDigestBadState: a state file digest cannot read is an error that
// names it, never a silent restart.
func TestDigestBadState(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	newLogWriter(t, log).write(1)
	st := filepath.Join(dir, "state.json")
	for name, content := range map[string]string{
		"not json":    "{\"version\": 1, \"files\": {",
		"bad version": `{"version": 99, "files": {}}`,
	} {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(st, []byte(content), 0o600)
			r := runDigest(t, "--state", st, log)
			if r.code != 2 || !strings.Contains(r.stderr, st) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want 2 and one line naming %s", r.code, r.stderr, st)
			}
			if b, _ := os.ReadFile(st); string(b) != content {
				t.Errorf("the broken state was changed to %q", b)
			}
		})
	}
}

// TestDigestLocked: a second run on the same state does not wait by
// default and says why.
func TestDigestLocked(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	newLogWriter(t, log).write(1)
	st := filepath.Join(dir, "state.json")
	unlock, err := state.Lock(st, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := runDigest(t, "--state", st, log)
	if r.code != 2 || !strings.Contains(r.stderr, "locked") {
		t.Errorf("locked: exit %d, stderr %q", r.code, r.stderr)
	}
	start := time.Now()
	go func() { time.Sleep(300 * time.Millisecond); unlock() }()
	r = runDigest(t, "--state", st, "--lock-wait", "10s", log)
	if r.code != 0 || r.stdout == "" {
		t.Errorf("with --lock-wait: exit %d, stderr %q", r.code, r.stderr)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("did not wait for the lock")
	}
}

// TestDigestKilled kills digest at points of its run, for real (SIGKILL
// from the sendmail it pipes to), and checks that the next run still
// reports every record: the state moves only after delivery.
func TestDigestKilled(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	st := filepath.Join(dir, "state.json")
	w := newLogWriter(t, log)
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mailbox := filepath.Join(dir, "mailbox")
	kills := map[string]string{
		// Killed while handing over the mail: nothing delivered.
		"before delivery": script("kill-before", `kill -9 $PPID; sleep 5`),
		// The mail is delivered, then digest dies before saving its state.
		"after delivery": script("kill-after", `cat > "`+mailbox+`"; kill -9 $PPID; sleep 5`),
	}
	for _, point := range []string{"before delivery", "after delivery"} {
		w.write(3)
		before, _ := os.ReadFile(st)
		cmd := exec.Command(self, "--tz", "UTC", "digest", "--state", st, "--mail-to", "ops@example.com", "--sendmail", kills[point], log)
		cmd.Env = append(os.Environ(), "LOGTRIAGE_TEST_MAIN=1")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("%s: digest was not killed (%v): %s", point, err, out)
		}
		if after, _ := os.ReadFile(st); !bytes.Equal(before, after) {
			t.Fatalf("%s: the killed run changed the state", point)
		}
		if point == "after delivery" {
			if mail, err := os.ReadFile(mailbox); err != nil || !bytes.Contains(mail, []byte("\nSubject:")) {
				t.Fatalf("%s: no mail was delivered (%v): %q", point, err, mail)
			}
		}
		// The next run reports the 3 records again: nothing is lost.
		if got := runDigest(t, "--state", st, "--format", "json", log).matched(t); got != 3 {
			t.Fatalf("%s: the next run matched %d records, want 3", point, got)
		}
	}
}

// TestDigestTruncated: a log truncated in place, with no copy, is read
// from its start again, and digest says so.
func TestDigestTruncated(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	st := filepath.Join(dir, "state.json")
	w := newLogWriter(t, log)
	w.write(6)
	if got := runDigest(t, "--state", st, "--format", "json", log).matched(t); got != 6 {
		t.Fatalf("first run matched %d, want 6", got)
	}
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	w.write(2)
	r := runDigest(t, "--state", st, "--format", "json", log)
	if got := r.matched(t); got != 2 {
		t.Errorf("after truncation matched %d, want 2", got)
	}
	if !strings.Contains(r.stderr, "truncated") {
		t.Errorf("stderr does not say the log was truncated: %q", r.stderr)
	}
}

// TestDigestArguments: which paths digest takes.
func TestDigestArguments(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	newLogWriter(t, log).write(2)
	os.WriteFile(log+".1", nil, 0o644)
	st := filepath.Join(dir, "state.json")

	// A glob leaves out the rotated copies it matches.
	r := runDigest(t, "--state", st, "--format", "json", filepath.Join(dir, "error.log*"))
	if got := r.matched(t); got != 2 {
		t.Errorf("glob: matched %d, want 2", got)
	}
	// A rotated copy named outright is refused.
	r = runDigest(t, "--state", st, log+".1")
	if r.code != 2 || !strings.Contains(r.stderr, "rotated copy") {
		t.Errorf("rotated copy: exit %d, stderr %q", r.code, r.stderr)
	}
	// A missing log is named; the others are still read.
	r = runDigest(t, "--state", filepath.Join(dir, "other.json"), "--format", "json", filepath.Join(dir, "missing.log"), log)
	if got := r.matched(t); got != 2 || !strings.Contains(r.stderr, "missing.log") {
		t.Errorf("missing log: matched %d, stderr %q", got, r.stderr)
	}
	// Mail flags without --mail-to are a usage error.
	r = runDigest(t, "--state", st, "--smtp", "smtp://127.0.0.1:1", log)
	if r.code != 2 || !strings.Contains(r.stderr, "--mail-to") {
		t.Errorf("--smtp without --mail-to: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestDigestNotReadWhole: a rotation that breaks off while it is read
// (a truncated .gz) fails the run, exit 2, with a line saying so and the
// state left as it was; once the file is whole again, the next run
// reports every new record once.
func TestDigestNotReadWhole(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	st := filepath.Join(dir, "state.json")
	w := newLogWriter(t, log)
	digest := func() digestRun { return runDigest(t, "--state", st, "--format", "json", log) }
	w.write(5)
	if got := digest().matched(t); got != 5 {
		t.Fatalf("first run matched %d, want 5", got)
	}
	w.write(300)
	os.Rename(log, log+".1")
	gzipFile(t, log+".1")
	w.write(3)
	whole, err := os.ReadFile(log + ".1.gz")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log+".1.gz", whole[:len(whole)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(st)
	if err != nil {
		t.Fatal(err)
	}

	r := digest()
	if r.code != 2 || !strings.Contains(r.stderr, log+" was not read whole") {
		t.Fatalf("run over a broken rotation: exit %d, stderr %q; want 2 and a line saying it was not read whole", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(st); !bytes.Equal(after, before) {
		t.Error("the state changed after a run that did not read the log whole")
	}

	os.WriteFile(log+".1.gz", whole, 0o644)
	if got, want := digest().matched(t), int64(w.n-5); got != want {
		t.Fatalf("run over the mended rotation matched %d, want %d", got, want)
	}
}
