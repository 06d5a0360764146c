package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logtriage/logtriage/internal/smtptest"
)

// watchEvent is a line of watch --format jsonl.
type watchEvent struct {
	Schema   string   `json:"schema"`
	Event    string   `json:"event"`
	Reasons  []string `json:"reasons"`
	Incident struct {
		ID        string           `json:"id"`
		Count     int64            `json:"count"`
		Counts    map[string]int64 `json:"counts_by_rule"`
		RootCause struct {
			RuleID string `json:"rule_id"`
		} `json:"root_cause"`
	} `json:"incident"`
	Incidents []json.RawMessage `json:"incidents"`
}

// watcher runs `logtriage watch` in-process, as main would, and collects
// its JSONL events as they are flushed.
type watcher struct {
	cancel context.CancelFunc
	done   chan int
	events chan watchEvent
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startWatch(t testing.TB, args ...string) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	w := &watcher{cancel: cancel, done: make(chan int, 1), events: make(chan watchEvent, 1000), stderr: &syncBuffer{}}
	go func() {
		code := run(ctx, append([]string{"--tz", "UTC", "watch", "--format", "jsonl", "--poll", "50ms"}, args...), nil, pw, w.stderr)
		pw.Close()
		w.done <- code
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var ev watchEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("watch wrote a line that is not JSON: %q", sc.Text())
				continue
			}
			w.events <- ev
		}
		close(w.events)
	}()
	t.Cleanup(func() { cancel() })
	// Lines written before the follower has positioned itself at the end
	// of the files would count as old content.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(w.stderr.String(), "logtriage: following ") {
		if time.Now().After(deadline) {
			t.Fatalf("watch did not start following: %s", w.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return w
}

// next waits for an event of the given kind, skipping others.
func (w *watcher) next(t testing.TB, kind string, within time.Duration) watchEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-w.events:
			if !ok {
				t.Fatalf("watch ended before %q; stderr: %s", kind, w.stderr.String())
			}
			if ev.Schema != "logtriage/v1" {
				t.Fatalf("event without schema: %+v", ev)
			}
			if ev.Event == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %s; stderr: %s", kind, within, w.stderr.String())
		}
	}
}

func (w *watcher) stop(t *testing.T) watchEvent {
	t.Helper()
	w.cancel()
	ev := w.next(t, "summary", 10*time.Second)
	if code := <-w.done; code != 0 {
		t.Errorf("watch exited %d after cancel; stderr: %s", code, w.stderr.String())
	}
	return ev
}

func appendLine(t testing.TB, name, line string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func refusedLine(at time.Time, conn int) string {
	return fmt.Sprintf(`%s [error] 7#7: *%d connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop.test, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:9/", host: "shop.test"`,
		at.UTC().Format("2006/01/02 15:04:05"), conn)
}

// TestWatchEventsAndLatency: a line appended to a followed file becomes an
// "opened" event; the figure from write to event is logged; the incident
// resolves on the clock; cancelling prints the summary and exits 0.
func TestWatchEventsAndLatency(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	appendLine(t, log, refusedLine(time.Now().Add(-time.Hour), 0)) // old content: not replayed
	w := startWatch(t, "--gap", "1s", "--recur", "1s", log)
	start := time.Now()
	appendLine(t, log, refusedLine(time.Now(), 1))
	ev := w.next(t, "opened", 5*time.Second)
	latency := time.Since(start)
	t.Logf("line written to opened event: %v", latency)
	if ev.Incident.RootCause.RuleID != "nginx.upstream.connect.econnrefused" || ev.Incident.Count != 1 {
		t.Errorf("opened: %+v", ev.Incident)
	}
	res := w.next(t, "resolved", 10*time.Second)
	if res.Incident.ID != ev.Incident.ID {
		t.Errorf("resolved %s, opened %s", res.Incident.ID, ev.Incident.ID)
	}
	sum := w.stop(t)
	if len(sum.Incidents) != 1 {
		t.Errorf("summary lists %d incidents, want 1", len(sum.Incidents))
	}
}

// BenchmarkWatchLatency reports the time from a line written to its event
// on stdout.
func BenchmarkWatchLatency(b *testing.B) {
	t := b
	dir := b.TempDir()
	log := filepath.Join(dir, "error.log")
	appendLine(t, log, "")
	w := startWatch(t, "--gap", "100ms", "--recur", "100ms", log)
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		appendLine(t, log, refusedLine(time.Now(), i))
		w.next(t, "opened", 5*time.Second)
		total += time.Since(start)
		w.next(t, "resolved", 5*time.Second)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/event")
	w.cancel()
}

// TestWatchSIGHUPReloadsRules: a rule added to a --rules file takes
// effect after SIGHUP; a broken file is refused and the old rules kept.
func TestWatchSIGHUPReloadsRules(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	rulesFile := filepath.Join(dir, "local.yaml")
	appendLine(t, log, "")
	os.WriteFile(rulesFile, []byte("rules: []\n"), 0o644)
	w := startWatch(t, "--rules", rulesFile, log)
	reloaded := func(want string) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(w.stderr.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q on stderr: %s", want, w.stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	os.WriteFile(rulesFile, []byte("rules:\n  - id: local.broken\n    colour: red\n"), 0o644)
	reloaded("SIGHUP: keeping the current rules")
	b, err := os.ReadFile(filepath.Join("testdata", "script", "user_rules.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	local := string(b)
	local = local[strings.Index(local, "-- local.yaml --\n")+len("-- local.yaml --\n"):]
	local = local[:strings.Index(local, "-- ")]
	// A context rule only joins incidents; this one must start them.
	local = strings.Replace(local, "role: context", "role: symptom", 1)
	os.WriteFile(rulesFile, []byte(local), 0o644)
	reloaded("SIGHUP: rules reloaded")
	// The new rule's records are notices: ten open an incident.
	for i := range 10 {
		appendLine(t, log, fmt.Sprintf("%s [error] 1#1: *%d maintenance mode is on, client: 127.0.0.1, server: x", time.Now().UTC().Format("2006/01/02 15:04:05"), i))
	}
	ev := w.next(t, "opened", 10*time.Second)
	if ev.Incident.RootCause.RuleID != "local.app.maintenance" {
		t.Fatalf("opened after reload: %+v", ev.Incident)
	}
	w.stop(t)
}

// TestWatchReplayInTimeOrder: --from-start replays several logs merged by
// time, as analyze reads them, so php-fpm's max_children, logged in
// another file, still becomes the root cause of the outage it explains;
// one file after the other would put it a minute after that outage.
func TestWatchReplayInTimeOrder(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "corpus", "nginx-04-fpm-saturated")
	w := startWatch(t, "--from-start", filepath.Join(dir, "nginx-error.log"), filepath.Join(dir, "php-fpm.log"))
	sum := w.stop(t)
	var roots []string
	for _, raw := range sum.Incidents {
		var in struct {
			RootCause struct {
				RuleID string `json:"rule_id"`
			} `json:"root_cause"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, in.RootCause.RuleID)
	}
	want := []string{"fpm.pool.max_children_reached", "fpm.pool.max_children_reached", "fpm.request.terminated"}
	if strings.Join(roots, " ") != strings.Join(want, " ") {
		t.Errorf("root causes %v, want %v", roots, want)
	}

	// --since replays only the records of the last DURATION: these are
	// from 2026-11-21 19:58 at the latest, so 1s keeps none of them.
	w = startWatch(t, "--since", "1s", filepath.Join(dir, "nginx-error.log"), filepath.Join(dir, "php-fpm.log"))
	if sum := w.stop(t); len(sum.Incidents) != 0 {
		t.Errorf("--since 1s replayed %d incidents from old records", len(sum.Incidents))
	}
}

// TestWatchTextInert: the terminal format shows hostile log content as
// escapes, never as control sequences.
func TestWatchTextInert(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	// The upstream becomes the incident's subject, which every event line
	// prints.
	appendLine(t, log, strings.Replace(refusedLine(time.Now(), 1), `http://127.0.0.1:9/`, "http://127.0.0.1:9\x1b[2J\x1b]0;owned\x07/", 1))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--tz", "UTC", "--color", "always", "watch", "--from-start", "--poll", "50ms", log}, nil, &out, &errb)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "OPENED") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := out.String()
	if !strings.Contains(got, "OPENED") || !strings.Contains(got, "Summary: 1 incidents") {
		t.Fatalf("output:\n%s", got)
	}
	// Colour is on, so ESC appears in the severity; never in log text,
	// and no BEL or OSC at all.
	if !strings.Contains(got, `127.0.0.1:9\x1b[2J\x1b]0;owned\x07`) {
		t.Errorf("the subject is not shown escaped:\n%q", got)
	}
	for _, bad := range []string{"\x07", "\x1b]", "\x1b[2J"} {
		if strings.Contains(got, bad) {
			t.Errorf("output holds %q:\n%q", bad, got)
		}
	}
}

// TestWatchRealNginx: a real nginx on a loopback port proxies to a closed
// port; watch reports the refused upstream, keeps counting across a log
// rotation (mv + nginx -s reopen) and resolves when requests stop.
func TestWatchRealNginx(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("nginx is needed for this test (.ci/run installs the Debian package): %v", err)
	}
	dir := t.TempDir()
	port := smtptest.FreePort(t)
	closed := smtptest.FreePort(t) // nothing listens here
	conf := filepath.Join(dir, "nginx.conf")
	errLog := filepath.Join(dir, "error.log")
	os.WriteFile(conf, []byte(fmt.Sprintf(`daemon off;
worker_processes 1;
error_log %s warn;
pid %s/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  server {
    listen 127.0.0.1:%d;
    server_name api.test;
    location / { proxy_pass http://127.0.0.1:%d; }
  }
}
`, errLog, dir, port, closed)), 0o644)
	cmd := exec.Command(bin, "-p", dir, "-c", conf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListening(t, port)

	w := startWatch(t, "--gap", "2s", "--recur", "2s", errLog)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	get := func(n int) {
		for range n {
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, want 502", resp.StatusCode)
			}
		}
	}
	get(3)
	opened := w.next(t, "opened", 5*time.Second)
	if opened.Incident.RootCause.RuleID != "nginx.upstream.connect.econnrefused" {
		t.Fatalf("opened: %+v", opened.Incident)
	}

	// Rotate as logrotate does: rename, then tell nginx to reopen.
	if err := os.Rename(errLog, errLog+".1"); err != nil {
		t.Fatal(err)
	}
	get(2) // written to the renamed file: nginx has not reopened yet
	if out, err := exec.Command(bin, "-p", dir, "-c", conf, "-s", "reopen").CombinedOutput(); err != nil {
		t.Fatalf("nginx -s reopen: %v %s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	get(4) // to the new file

	// nginx's signal process may log an alert of its own (it first tries
	// its compiled-in error log path): another incident, reported too.
	res := w.next(t, "resolved", 15*time.Second)
	for res.Incident.ID != opened.Incident.ID {
		res = w.next(t, "resolved", 15*time.Second)
	}
	if c := res.Incident.Counts["nginx.upstream.connect.econnrefused"]; c != 9 {
		t.Errorf("the incident counted %d refused connects, want 9 (3 before, 2 into the renamed file, 4 after the reopen)", c)
	}
	w.stop(t)
}

func waitListening(t *testing.T, port int) {
	t.Helper()
	for range 100 {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nginx did not listen on %d", port)
}
