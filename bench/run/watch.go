package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The watch step runs the real binary on real files, as an operator
// would, and measures what the README promises of it: a line written to
// a log comes out as an event in under a second, and a watcher with
// nothing to read costs next to no CPU.
const (
	watchGap    = "1s"    // --gap and --recur: incidents resolve soon after their line
	watchPoll   = "250ms" // --poll's default, given in case LOGTRIAGE_POLL is set
	watchPause  = 500 * time.Millisecond
	watchWithin = 10 * time.Second // the longest wait for one event
)

// watchResult is what the watch step measured.
type watchResult struct {
	args      []string  // the watcher's command line
	files     int       // files followed
	latency   []float64 // seconds from a write returning to its event read
	idle      time.Duration
	idleCPU   float64 // user+sys seconds of the watcher over idle; < 0 when unknown
	tick      float64 // seconds per clock tick of idleCPU, its resolution
	maxRSS    int64   // KiB, the watcher's ru_maxrss
	incidents int     // in the summary printed on SIGTERM
}

// watchEvent is the part of a watch --format jsonl line the step reads.
type watchEvent struct {
	Event    string   `json:"event"`
	Reasons  []string `json:"reasons"`
	Incident struct {
		Subject string `json:"subject"`
	} `json:"incident"`
	Incidents []json.RawMessage `json:"incidents"`

	at  time.Time // when the line was read from the watcher's stdout
	err error     // the line was not JSON
}

// watcher is a running `logtriage watch` child.
type watcher struct {
	cmd    *exec.Cmd
	events chan watchEvent // closed at the end of stdout
	ready  chan struct{}   // closed when it reports that it follows the files
	done   chan struct{}   // closed at the end of stderr
	mu     sync.Mutex
	stderr strings.Builder
}

// measureWatch follows three fresh logs in dir with bin, appends n
// critical nginx lines to one of them, each after a random pause,
// timing each line to its "opened" event; then leaves the watcher idle
// for the idle window and reads its CPU time; then stops it with
// SIGTERM, which must print the summary and exit 0.
func measureWatch(bin, dir string, n int, idle time.Duration, stderr io.Writer) (*watchResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	errorLog := filepath.Join(dir, "error.log")
	names := []string{errorLog, filepath.Join(dir, "php-fpm.log"), filepath.Join(dir, "php-fpm-slow.log")}
	// Lines from an hour ago, which a watcher starting at the end of
	// its files must not read: the summary would count the incident.
	old := time.Now().Add(-time.Hour)
	contents := []string{
		refusedLine(old, 0, socket(-1)) + "\n",
		"[" + old.Format("02-Jan-2006 15:04:05") + "] NOTICE: fpm is running, pid 812\n",
		"",
	}
	for i, name := range names {
		if err := os.WriteFile(name, []byte(contents[i]), 0o644); err != nil {
			return nil, err
		}
	}

	r := &watchResult{files: len(names), idle: idle, idleCPU: -1}
	r.args = append([]string{bin, "watch", "--format", "jsonl", "--poll", watchPoll, "--gap", watchGap, "--recur", watchGap}, names...)
	fmt.Fprintf(stderr, "bench-e2e: %s\n", strings.Join(r.args, " "))
	w, err := startWatcher(r.args)
	if err != nil {
		return nil, err
	}
	defer w.kill()
	select {
	case <-w.ready:
	case <-w.done:
		return nil, fmt.Errorf("watch ended before following: %s", w.errText())
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("watch did not start following within 30 s: %s", w.errText())
	}

	// Each line names a socket of its own, so it opens an incident of
	// its own: one line, one "opened" event, and no line waits on the
	// one before to resolve. The random pause lands the writes at every
	// phase of the watcher's poll and its 100 ms tick, rather than just
	// after the tick that printed the previous event.
	resolved := map[string]bool{}
	for i := range n {
		time.Sleep(rand.N(watchPause))
		sock := socket(i)
		wrote, err := appendLine(errorLog, refusedLine(time.Now(), i+1, sock))
		if err != nil {
			return nil, err
		}
		ev, err := w.await(resolved, func(ev watchEvent) bool {
			return ev.Event == "opened" && len(ev.Reasons) == 0 && ev.Incident.Subject == sock
		})
		if err != nil {
			return nil, fmt.Errorf("watch line %d: %w", i+1, err)
		}
		r.latency = append(r.latency, ev.at.Sub(wrote).Seconds())
	}

	// Idle: every incident resolved, then the recur window passed so
	// that none can reopen, then nothing is written for the window.
	for len(resolved) < n {
		if _, err := w.await(resolved, func(watchEvent) bool { return true }); err != nil {
			return nil, fmt.Errorf("watch: %d of %d incidents resolved: %w", len(resolved), n, err)
		}
	}
	gap, _ := time.ParseDuration(watchGap)
	time.Sleep(gap + 500*time.Millisecond)
	hz := clockTicks()
	r.tick = 1 / float64(hz)
	before, err1 := cpuTicks(w.cmd.Process.Pid)
	time.Sleep(idle)
	after, err2 := cpuTicks(w.cmd.Process.Pid)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(stderr, "bench-e2e: watch idle CPU unknown: %v\n", err)
	} else {
		r.idleCPU = float64(after-before) / float64(hz)
	}

	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, fmt.Errorf("watch: SIGTERM: %w", err)
	}
	sum, err := w.await(resolved, func(ev watchEvent) bool { return ev.Event == "summary" })
	if err != nil {
		return nil, fmt.Errorf("watch after SIGTERM: %w", err)
	}
	r.incidents = len(sum.Incidents)
	hung := time.AfterFunc(watchWithin, func() { w.cmd.Process.Kill() })
	for range w.events { // to the end of stdout, then of stderr, before Wait
	}
	<-w.done
	err = w.cmd.Wait()
	hung.Stop()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("watch: %w", err)
	}
	if code := w.cmd.ProcessState.ExitCode(); code != 0 {
		return nil, fmt.Errorf("watch exited %d after SIGTERM, want 0: %s", code, w.errText())
	}
	if r.incidents != n {
		return nil, fmt.Errorf("watch summary lists %d incidents, want the %d written", r.incidents, n)
	}
	if ru, ok := w.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = maxRSSKiB(ru)
	}
	return r, nil
}

func startWatcher(args []string) (*watcher, error) {
	w := &watcher{cmd: exec.Command(args[0], args[1:]...), events: make(chan watchEvent, 1024),
		ready: make(chan struct{}), done: make(chan struct{})}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := w.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	go func() {
		defer close(w.events)
		br := bufio.NewReader(stdout)
		for {
			line, err := br.ReadBytes('\n')
			at := time.Now()
			if len(line) > 0 {
				ev := watchEvent{at: at}
				if jerr := json.Unmarshal(line, &ev); jerr != nil {
					ev.err = fmt.Errorf("watch wrote a line that is not JSON: %q", line)
				}
				w.events <- ev
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer close(w.done)
		// The same sign the watch tests wait for: once it is printed,
		// the files are positioned at their end and a line written
		// now is new.
		br := bufio.NewReader(stderr)
		following := false
		for {
			line, err := br.ReadString('\n')
			w.mu.Lock()
			if w.stderr.Len() < 64<<10 {
				w.stderr.WriteString(line)
			}
			w.mu.Unlock()
			if !following && strings.HasPrefix(line, "logtriage: following ") {
				following = true
				close(w.ready)
			}
			if err != nil {
				return
			}
		}
	}()
	return w, nil
}

// await returns the first event that want accepts, noting on the way
// the subjects of the incidents that resolved.
func (w *watcher) await(resolved map[string]bool, want func(watchEvent) bool) (watchEvent, error) {
	deadline := time.After(watchWithin)
	for {
		select {
		case ev, ok := <-w.events:
			if !ok {
				return watchEvent{}, fmt.Errorf("watch ended: %s", w.errText())
			}
			if ev.err != nil {
				return watchEvent{}, ev.err
			}
			if ev.Event == "resolved" {
				resolved[ev.Incident.Subject] = true
			}
			if want(ev) {
				return ev, nil
			}
		case <-deadline:
			return watchEvent{}, fmt.Errorf("no such event within %s; stderr: %s", watchWithin, w.errText())
		}
	}
}

func (w *watcher) errText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(w.stderr.String())
}

// kill ends a watcher still running after an error; after a clean stop
// the process is already waited for and this does nothing.
func (w *watcher) kill() {
	if w.cmd.ProcessState != nil {
		return
	}
	w.cmd.Process.Kill()
	for range w.events {
	}
	<-w.done
	w.cmd.Wait()
}

// socket is the php-fpm socket named by the i-th line.
func socket(i int) string {
	return fmt.Sprintf("unix:/run/php/php8.2-fpm-site%d.sock", i+1)
}

// refusedLine is what nginx logs when nothing listens on a php-fpm
// socket: a critical record, so one line opens its incident.
func refusedLine(at time.Time, conn int, sock string) string {
	return fmt.Sprintf(`%s [error] 4127#4127: *%d connect() to %s failed (111: Connection refused) while connecting to upstream, client: 203.0.113.9, server: shop.test, request: "GET / HTTP/1.1", upstream: "fastcgi://%[3]s:", host: "shop.test"`,
		at.Format("2006/01/02 15:04:05"), conn, sock)
}

// appendLine appends line to the file as a server does, one write, and
// returns the time that write returned.
func appendLine(name, line string) (time.Time, error) {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return time.Time{}, err
	}
	_, err = f.WriteString(line + "\n")
	wrote := time.Now()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return wrote, err
}

// cpuTicks reads a process's user+system CPU time, all its threads, in
// clock ticks (utime and stime, fields 14 and 15 of /proc/PID/stat).
func cpuTicks(pid int) (int64, error) {
	name := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	t, err := statTicks(string(b))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// statTicks is utime+stime of a /proc/PID/stat line.
func statTicks(b string) (int64, error) {
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", b)
	}
	f := strings.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return utime + stime, nil
}

// clockTicks is the unit of /proc/PID/stat's times, sysconf(_SC_CLK_TCK)
// as getconf prints it; Linux's USER_HZ is 100 where getconf is missing.
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if hz, perr := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && perr == nil && hz > 0 {
		return hz
	}
	return 100
}

// percentile is the nearest-rank p-th percentile of v.
func percentile(v []float64, p float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[max(0, int(math.Ceil(p/100*float64(len(s))))-1)]
}

func reportWatch(w io.Writer, r *watchResult) {
	args := slices.Clone(r.args)
	for i := len(args) - r.files; i < len(args); i++ {
		args[i] = filepath.Base(args[i])
	}
	fmt.Fprintf(w, "\nwatch: %s\n", strings.Join(args, " "))
	fmt.Fprintf(w, "each line opens an incident of its own (its own php-fpm socket) after a random pause of up to %.1f s; timed from its write returning to its \"opened\" event read from stdout\n",
		watchPause.Seconds())
	fmt.Fprintf(w, "watch: line written → event out  median %.2f s  p90 %.2f s  max %.2f s  (%d lines)\n",
		median(r.latency), percentile(r.latency, 90), slices.Max(r.latency), len(r.latency))
	secs := r.idle.Seconds()
	cpu := "unknown (no /proc)"
	if r.idleCPU >= 0 {
		cpu = fmt.Sprintf("%.2f %% of a core, %.2f CPU s a minute (%.2f CPU s, counted in %.0f ms ticks)",
			100*r.idleCPU/secs, 60*r.idleCPU/secs, r.idleCPU, r.tick*1000)
	}
	fmt.Fprintf(w, "watch: idle CPU over %.0f s, %d files   %s  (peak RSS %.1f MB)\n", secs, r.files, cpu, float64(r.maxRSS)/1024)
	fmt.Fprintf(w, "watch: SIGTERM → summary of %d incidents, exit 0\n", r.incidents)
}
