// Command run is logtriage's end-to-end benchmark (`make bench-e2e`). It
// builds bin/logtriage, generates a day of nginx and php-fpm logs with
// bench/gen (kept in bench/data and reused while the generator and its
// flags are unchanged), and times, several times each, reporting the
// median:
//
//	(a) logtriage analyze --format json error.log php-fpm.log php-fpm-slow.log
//	(b) grep -cE '<the literal anchors of every nginx rule>' error.log
//	(c) logtriage analyze --format json error.log.gz
//	(d) gzip -dc error.log.gz
//
// (b) is the floor for "find the lines any rule could be about", (d) the
// floor for reading a gzipped archive. It also measures logtriage's peak
// RSS on about 10 MB of input and, with -big, about 1 GB. Last, it runs
// logtriage watch on three fresh logs and measures the time from a line
// written to its event out, the watcher's CPU time while nothing is
// written and its peak RSS. Figures are printed, never judged: there is
// no pass or fail on speed.
//
//	go run ./bench/run -lines 1000000 -reps 3 [-big] [-cpuprofile cpu.prof] [-watch=false]
//
// With -pgo FILE it times nothing: it writes the profile the release
// build is optimized with (`make pgo`, cmd/logtriage/default.pgo), the
// CPU profiles of -reps runs of (a) and (c) merged into one.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench-e2e: %v\n", err)
		os.Exit(1)
	}
}

type config struct {
	lines      int
	reps       int
	big        bool
	seed       uint64
	dir        string
	bin        string
	build      bool
	regen      bool
	cpuprofile string
	pgo        string
	watch      bool
	watchLines int
	watchIdle  time.Duration
}

func run(args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("bench-e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.lines, "lines", 1_000_000, "lines of the generated nginx error log (1 M is about 300 MB)")
	fs.IntVar(&c.reps, "reps", 3, "timed runs of each command; the median is reported")
	fs.BoolVar(&c.big, "big", false, "also measure peak RSS on about 1 GB of input (takes disk and time)")
	fs.Uint64Var(&c.seed, "seed", 1, "generator seed")
	fs.StringVar(&c.dir, "dir", "bench/data", "where generated logs are kept, one directory per size")
	fs.StringVar(&c.bin, "bin", "bin/logtriage", "the logtriage binary to measure")
	fs.BoolVar(&c.build, "build", true, "build the binary first (make build)")
	fs.BoolVar(&c.regen, "regen", false, "generate the logs even when a matching copy exists")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "also write a CPU profile of logtriage analyze (its hidden --cpuprofile flag) to this file and print its top 10")
	fs.StringVar(&c.pgo, "pgo", "", "time nothing; write the merged CPU profiles of -reps runs of analyze, plain and .gz, to this file (for profile-guided optimization)")
	fs.BoolVar(&c.watch, "watch", true, "also measure logtriage watch: line-to-event latency, idle CPU (about 15 s plus -watch-idle)")
	fs.IntVar(&c.watchLines, "watch-lines", 20, "lines written to the watched log, one at a time, for the latency")
	fs.DurationVar(&c.watchIdle, "watch-idle", 10*time.Second, "how long the watcher's CPU time is measured with nothing written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || c.lines < 1 || c.reps < 1 || c.watchLines < 1 || c.watchIdle <= 0 {
		fs.Usage()
		return errors.New("bad arguments")
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	for _, tool := range []string{"grep", "gzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed for the comparison: %w", tool, err)
		}
	}

	if c.build {
		if err := buildBinary(c.bin, stderr); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "logtriage-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gen := filepath.Join(tmp, "gen")
	if err := runLogged(stderr, "go", "build", "-o", gen, "./bench/gen"); err != nil {
		return err
	}
	genSum, err := generatorSum()
	if err != nil {
		return err
	}
	ds, err := dataset(c, gen, genSum, c.lines, true, stderr)
	if err != nil {
		return err
	}
	if c.pgo != "" {
		return profile(stdout, stderr, c.bin, c.pgo, ds.dir, c.reps, true)
	}
	version := strings.TrimSpace(outputOf(c.bin, "version"))

	anchors, nrules, err := nginxAnchors(c.bin)
	if err != nil {
		return err
	}
	pattern := anchorPattern(anchors)
	if err := checkPattern(pattern, anchors); err != nil {
		return err
	}

	logs := []string{ds.path("error.log"), ds.path("php-fpm.log"), ds.path("php-fpm-slow.log")}
	steps := []*step{
		{name: "(a) logtriage analyze --format json, 3 logs", lines: ds.allLines(), bytes: ds.allBytes(), rss: true,
			cmd: append([]string{c.bin, "analyze", "--format", "json"}, logs...), okCodes: []int{0, 1}},
		{name: "(b) grep -cE <nginx anchors> error.log", lines: ds.nginxLines, bytes: ds.nginxBytes,
			cmd: []string{"grep", "-cE", pattern, ds.path("error.log")}, okCodes: []int{0, 1}, env: []string{"LC_ALL=C"}, keepOut: true},
		{name: "(c) logtriage analyze --format json error.log.gz", lines: ds.nginxLines, bytes: ds.nginxBytes, rss: true,
			cmd: []string{c.bin, "analyze", "--format", "json", ds.path("error.log.gz")}, okCodes: []int{0, 1}},
		{name: "(d) gzip -dc error.log.gz", lines: ds.nginxLines, bytes: ds.nginxBytes,
			cmd: []string{"gzip", "-dc", ds.path("error.log.gz")}, okCodes: []int{0}},
	}
	// (a) again, each record dropped after a stage (a hidden flag): where
	// (a)'s time goes, in the real pipeline on both cores.
	var stages []*step
	for _, st := range []struct{ flag, name string }{
		{"parse", "read and parse"},
		{"match", "+ match, prepare, count by rule"},
	} {
		stages = append(stages, &step{name: st.name, okCodes: []int{0}, // the stage table shows no lines/s
			cmd: append([]string{c.bin, "analyze", "--format", "json", "--stop-after", st.flag}, logs...)})
	}
	warm(ds)
	load := []string{loadAvg()}
	timed := append(slices.Clone(steps), stages...)
	fmt.Fprintf(stderr, "bench-e2e: timing %d runs of each of %d commands\n", c.reps, len(timed))
	// Interleave the repetitions so that a slow spell of the machine
	// hits every command alike.
	for range c.reps {
		for _, s := range timed {
			if err := s.measure(); err != nil {
				return err
			}
		}
	}

	// Peak RSS by input size: about 10 MB, the ds input, and with -big
	// about 1 GB, at the ds input's bytes per line.
	bytesPerLine := float64(ds.nginxBytes) / float64(ds.nginxLines)
	sizes := []*sizeRow{{label: "~10 MB", lines: int(1e7/bytesPerLine + 0.5)}, {label: fmt.Sprintf("~%.0f MB", mb(ds.nginxBytes)), ds: ds, from: steps[0]}}
	if c.big {
		sizes = append(sizes, &sizeRow{label: "~1 GB", lines: int(1e9/bytesPerLine + 0.5)})
	} else {
		sizes = append(sizes, &sizeRow{label: "~1 GB", skipped: true})
	}
	for _, r := range sizes {
		if r.skipped || r.from != nil {
			continue
		}
		if r.ds, err = dataset(c, gen, genSum, r.lines, false, stderr); err != nil {
			return err
		}
		r.from = &step{name: r.label, lines: r.ds.allLines(), bytes: r.ds.allBytes(), rss: true, okCodes: []int{0, 1},
			cmd: append([]string{c.bin, "analyze", "--format", "json"},
				r.ds.path("error.log"), r.ds.path("php-fpm.log"), r.ds.path("php-fpm-slow.log"))}
		warm(r.ds)
		for range c.reps {
			if err := r.from.measure(); err != nil {
				return err
			}
		}
	}

	// A month of rotated logs: the ~10 MB nginx log as 30 daily .gz
	// files, where every input waits in the merge for its turn and the
	// report lists a month of incidents. One run: it is long.
	month, err := monthOfLogs(c.bin, sizes[0].ds, filepath.Join(tmp, "month"), 30)
	if err != nil {
		return err
	}
	if err := month.measure(); err != nil {
		return err
	}
	sizes = append(sizes, &sizeRow{label: "month", from: month})

	load = append(load, loadAvg())

	var watch *watchResult
	if c.watch {
		if watch, err = measureWatch(c.bin, filepath.Join(tmp, "watch"), c.watchLines, c.watchIdle, stderr); err != nil {
			return err
		}
	}
	report(stdout, c, version, ds, nrules, anchors, steps, stages, sizes, load, watch)

	if c.cpuprofile != "" {
		if err := profile(stdout, stderr, c.bin, c.cpuprofile, ds.dir, 1, false); err != nil {
			return err
		}
	}
	return nil
}

// moduleRoot finds the directory of logtriage's go.mod, from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.HasPrefix(b, []byte("module github.com/logtriage/logtriage\n")) {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("run me inside the logtriage module")
		}
		dir = up
	}
}

// buildBinary runs `make build`, or its go build line where there is no
// make (the Makefile stays the one definition of the release build).
func buildBinary(bin string, stderr io.Writer) error {
	if bin == "bin/logtriage" {
		if _, err := exec.LookPath("make"); err == nil {
			return runLogged(stderr, "make", "--no-print-directory", "build")
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/logtriage")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	fmt.Fprintf(stderr, "bench-e2e: %s\n", strings.Join(cmd.Args, " "))
	return cmd.Run()
}

func runLogged(stderr io.Writer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	fmt.Fprintf(stderr, "bench-e2e: %s %s\n", name, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func outputOf(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return string(out)
}

// generatorSum hashes the generator's sources: generated data is reused
// only while they are unchanged.
func generatorSum() (string, error) {
	h := sha256.New()
	for _, f := range []string{"bench/generate.go", "bench/gen/main.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// dataSet is one generated set of logs.
type dataSet struct {
	dir                    string
	nginxLines, nginxBytes int64
	fpmLines, fpmBytes     int64
	gzBytes                int64
	genSeconds             float64 // 0 when reused
}

func (d *dataSet) path(name string) string { return filepath.Join(d.dir, name) }
func (d *dataSet) allBytes() int64         { return d.nginxBytes + d.fpmBytes }
func (d *dataSet) allLines() int64         { return d.nginxLines + d.fpmLines }

// dataset generates (or reuses) the logs of n lines under c.dir.
func dataset(c config, gen, genSum string, n int, gz bool, stderr io.Writer) (*dataSet, error) {
	d := &dataSet{dir: filepath.Join(c.dir, strconv.Itoa(n))}
	stamp := fmt.Sprintf("lines=%d seed=%d gzip=%t generator=%s\n", n, c.seed, gz, genSum)
	stampFile := d.path("params")
	if old, err := os.ReadFile(stampFile); c.regen || err != nil || string(old) != stamp {
		os.Remove(stampFile)
		fmt.Fprintf(stderr, "bench-e2e: generating %d lines in %s\n", n, d.dir)
		start := time.Now()
		cmd := exec.Command(gen, "-lines", strconv.Itoa(n), "-seed", strconv.FormatUint(c.seed, 10),
			"-gzip="+strconv.FormatBool(gz), "-out", d.dir)
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
		d.genSeconds = time.Since(start).Seconds()
		if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
			return nil, err
		}
	} else {
		fmt.Fprintf(stderr, "bench-e2e: reusing %s (same generator and flags)\n", d.dir)
	}
	var err error
	if d.nginxLines, d.nginxBytes, err = countLines(d.path("error.log")); err != nil {
		return nil, err
	}
	for _, f := range []string{"php-fpm.log", "php-fpm-slow.log"} {
		l, b, err := countLines(d.path(f))
		if err != nil {
			return nil, err
		}
		d.fpmLines += l
		d.fpmBytes += b
	}
	if gz {
		st, err := os.Stat(d.path("error.log.gz"))
		if err != nil {
			return nil, err
		}
		d.gzBytes = st.Size()
	}
	return d, nil
}

func countLines(name string) (lines, size int64, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		size += int64(n)
		if errors.Is(err, io.EOF) {
			return lines, size, nil
		}
		if err != nil {
			return 0, 0, err
		}
	}
}

// warm reads the inputs once so that every timed run finds them in the
// page cache, the first one included.
func warm(d *dataSet) {
	for _, f := range []string{"error.log", "error.log.gz", "php-fpm.log", "php-fpm-slow.log"} {
		countLines(d.path(f))
	}
}

// nginxAnchors asks the binary for its nginx rules and returns their
// distinct literal anchors and the number of rules.
func nginxAnchors(bin string) ([]string, int, error) {
	out, err := exec.Command(bin, "rules", "list", "--server", "nginx", "--json").Output()
	if err != nil {
		return nil, 0, fmt.Errorf("%s rules list: %w", bin, err)
	}
	var doc struct {
		Rules []struct {
			ID     string `json:"id"`
			Anchor string `json:"anchor"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, 0, fmt.Errorf("%s rules list --json: %w", bin, err)
	}
	var anchors []string
	for _, r := range doc.Rules {
		if r.Anchor == "" {
			return nil, 0, fmt.Errorf("rule %s has no anchor in rules list --json", r.ID)
		}
		anchors = append(anchors, r.Anchor)
	}
	slices.Sort(anchors)
	return slices.Compact(anchors), len(doc.Rules), nil
}

// anchorPattern is the anchors as one POSIX extended regular expression.
// Every metacharacter is escaped with a backslash, which ERE and RE2 read
// alike as the character itself.
func anchorPattern(anchors []string) string {
	quoted := make([]string, len(anchors))
	for i, a := range anchors {
		quoted[i] = regexp.QuoteMeta(a)
	}
	return strings.Join(quoted, "|")
}

// checkPattern proves the alternation matches each anchor and only what
// contains one, so that grep counts what it is meant to.
func checkPattern(pattern string, anchors []string) error {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return fmt.Errorf("anchor pattern: %w", err)
	}
	for _, a := range anchors {
		if !re.MatchString("x" + a + "x") {
			return fmt.Errorf("anchor pattern does not match %q", a)
		}
	}
	if re.MatchString("2026/11/21 00:00:00 [error] 1#1: *1 zzz") {
		return errors.New("anchor pattern matches a line with no anchor")
	}
	return nil
}

// step is one command measured several times.
type step struct {
	name    string
	cmd     []string
	env     []string
	okCodes []int
	lines   int64
	bytes   int64
	rss     bool // report the child's peak RSS
	keepOut bool // keep stdout (grep's count)

	wall   []float64 // seconds, per run
	cpu    []float64 // user+sys seconds, per run
	maxRSS int64     // KiB, the largest of the runs
	out    string
}

func (s *step) measure() error {
	cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
	cmd.Env = append(os.Environ(), s.env...)
	var out, errb bytes.Buffer
	if s.keepOut {
		cmd.Stdout = &out
	} else {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer devnull.Close()
		cmd.Stdout = devnull
	}
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start).Seconds()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if code := cmd.ProcessState.ExitCode(); !slices.Contains(s.okCodes, code) {
		return fmt.Errorf("%s: exit status %d: %s", s.name, code, strings.TrimSpace(errb.String()))
	}
	s.wall = append(s.wall, wall)
	ps := cmd.ProcessState
	s.cpu = append(s.cpu, (ps.UserTime() + ps.SystemTime()).Seconds())
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		s.maxRSS = max(s.maxRSS, maxRSSKiB(ru))
	}
	s.out = strings.TrimSpace(out.String())
	return nil
}

// maxRSSKiB reads ru_maxrss, which Linux gives in KiB and macOS in bytes.
func maxRSSKiB(ru *syscall.Rusage) int64 {
	v := int64(ru.Maxrss)
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		v /= 1024
	}
	return v
}

// loadAvg returns the machine's load averages over 1, 5 and 15 minutes,
// or "unknown" where /proc/loadavg does not exist.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

type sizeRow struct {
	label   string
	lines   int
	ds      *dataSet
	from    *step
	skipped bool
}

func mb(b int64) float64 { return float64(b) / 1e6 }

func report(w io.Writer, c config, version string, d *dataSet, nrules int, anchors []string, steps, stages []*step, sizes []*sizeRow, load []string, watch *watchResult) {
	fmt.Fprintf(w, "\nlogtriage end-to-end benchmark: %s, %d CPUs, median of %d runs, warm page cache\n",
		version, runtime.NumCPU(), c.reps)
	fmt.Fprintf(w, "load average (1, 5, 15 min) before the timed runs: %s, after the size runs: %s; other work on the machine slows every step\n",
		load[0], load[len(load)-1])
	for _, v := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"} {
		if x, ok := os.LookupEnv(v); ok {
			fmt.Fprintf(w, "%s=%s in the environment of every run\n", v, x)
		}
	}
	gen := "reused"
	if d.genSeconds > 0 {
		gen = fmt.Sprintf("generated in %.1f s", d.genSeconds)
	}
	fmt.Fprintf(w, "input %s (seed %d, %s): error.log %d lines %.1f MB, error.log.gz %.1f MB, php-fpm logs %d lines %.1f MB\n",
		d.dir, c.seed, gen, d.nginxLines, mb(d.nginxBytes), mb(d.gzBytes), d.fpmLines, mb(d.fpmBytes))
	fmt.Fprintf(w, "grep pattern: %d distinct anchors of %d nginx rules, LC_ALL=C; grep counted %s lines\n",
		len(anchors), nrules, steps[1].out)
	fmt.Fprintf(w, "MB = 10^6 bytes of uncompressed log; seconds are wall-clock; cpu = user+sys of the child; cores = cpu / seconds;\n")
	fmt.Fprintf(w, "peak RSS = the child's ru_maxrss, the largest of the runs\n\n")

	fmt.Fprintf(w, "%-50s %9s %8s %8s %8s %8s %10s %8s %7s %5s %12s\n",
		"step", "lines", "MB", "seconds", "min", "max", "lines/s", "MB/s", "cpu s", "cores", "peak RSS MB")
	for _, s := range steps {
		med := median(s.wall)
		rss := "-"
		if s.rss {
			rss = fmt.Sprintf("%.1f", float64(s.maxRSS)/1024)
		}
		fmt.Fprintf(w, "%-50s %9d %8.1f %8.3f %8.3f %8.3f %10.0f %8.1f %7.2f %5.2f %12s\n",
			s.name, s.lines, mb(s.bytes), med, slices.Min(s.wall), slices.Max(s.wall),
			float64(s.lines)/med, mb(s.bytes)/med, median(s.cpu), median(s.cpu)/med, rss)
	}
	a, b, cc, dd := median(steps[0].wall), median(steps[1].wall), median(steps[2].wall), median(steps[3].wall)
	fmt.Fprintf(w, "\nratio analyze / grep -cE          %6.2fx  (a / b, medians; best runs %.2fx)\n", a/b, slices.Min(steps[0].wall)/slices.Min(steps[1].wall))
	fmt.Fprintf(w, "ratio analyze .gz / gzip -dc      %6.2fx  (c / d, medians; best runs %.2fx)\n\n", cc/dd, slices.Min(steps[2].wall)/slices.Min(steps[3].wall))
	reportStages(w, steps[0], steps[1], stages)

	fmt.Fprintln(w, "peak RSS of logtriage analyze --format json (3 logs) by input size")
	fmt.Fprintf(w, "%-8s %9s %8s %8s %8s %12s %14s\n", "input", "lines", "MB", "seconds", "MB/s", "peak RSS MB", "vs ~10 MB")
	small := float64(sizes[0].from.maxRSS) / 1024
	for _, r := range sizes {
		if r.skipped {
			fmt.Fprintf(w, "%-8s %9s %8s %8s %8s %12s\n", r.label, "-", "-", "-", "-", "skipped (BIG=1 / -big)")
			continue
		}
		s := r.from
		rss := float64(s.maxRSS) / 1024
		fmt.Fprintf(w, "%-8s %9d %8.1f %8.3f %8.1f %12.1f %+11.1f MB\n", r.label, s.lines, mb(s.bytes), median(s.wall),
			mb(s.bytes)/median(s.wall), rss, rss-small)
	}

	if watch == nil {
		fmt.Fprintln(w, "\nwatch: skipped (-watch=false)")
		return
	}
	reportWatch(w, watch)
}

// reportStages prints where the time of a, the whole analyze, goes: each
// stage's run adds one stage to the one before, and a adds the rest.
func reportStages(w io.Writer, a, grep *step, stages []*step) {
	fmt.Fprintln(w, "where (a)'s time goes: (a) again, each record dropped after a stage (analyze --stop-after)")
	fmt.Fprintf(w, "%-50s %8s %8s %7s %5s %8s\n", "stage", "seconds", "added", "cpu s", "cores", "vs grep")
	rows := append(slices.Clone(stages), &step{name: "+ incident engine and report: (a)", wall: a.wall, cpu: a.cpu})
	before := 0.0
	for _, s := range rows {
		med := median(s.wall)
		fmt.Fprintf(w, "%-50s %8.3f %+8.3f %7.2f %5.2f %7.2fx\n", s.name, med, med-before, median(s.cpu), median(s.cpu)/med, med/median(grep.wall))
		before = med
	}
	fmt.Fprintln(w)
}

// monthOfLogs writes the nginx log of d as days gzipped daily logs in
// dir, each a day before the one after it (error.log.1.gz the last, as
// logrotate numbers them), and returns the step that analyzes them all.
func monthOfLogs(bin string, d *dataSet, dir string, days int) (*step, error) {
	data, err := os.ReadFile(d.path("error.log"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	const layout = "2006/01/02"
	var names []string
	for day := days; day >= 1; day-- {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		for line := range bytes.Lines(data) {
			// "2026/11/21 00:00:00 [error] ...": move the date day days back.
			if t, err := time.Parse(layout, string(line[:min(len(line), len(layout))])); err == nil {
				zw.Write([]byte(t.AddDate(0, 0, -day).Format(layout)))
				line = line[len(layout):]
			}
			zw.Write(line)
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, fmt.Sprintf("error.log.%d.gz", day))
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return &step{name: "month", lines: int64(days) * d.nginxLines, bytes: int64(days) * d.nginxBytes, rss: true, okCodes: []int{0, 1},
		cmd: append([]string{bin, "analyze", "--format", "json"}, names...)}, nil
}

// profile runs bin analyze with its hidden --cpuprofile flag over the
// dataset's three plain logs, and with gz also over error.log.gz, runs
// times each, writes the profiles merged into file and prints its top 10.
func profile(stdout, stderr io.Writer, bin, file, dir string, runs int, gz bool) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	inputs := [][]string{{"error.log", "php-fpm.log", "php-fpm-slow.log"}}
	if gz {
		inputs = append(inputs, []string{"error.log.gz"})
	}
	tmp, err := os.MkdirTemp("", "logtriage-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var parts []string
	for i := range runs {
		for j, in := range inputs {
			part := filepath.Join(tmp, fmt.Sprintf("%d-%d.prof", i, j))
			args := []string{"--cpuprofile", part, "analyze", "--format", "json"}
			for _, n := range in {
				args = append(args, filepath.Join(dir, n))
			}
			cmd := exec.Command(bin, args...)
			cmd.Stdout, cmd.Stderr = io.Discard, stderr
			fmt.Fprintf(stderr, "bench-e2e: %s\n", strings.Join(cmd.Args, " "))
			if err := cmd.Run(); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 { // 1: incidents found
					return fmt.Errorf("profile: %w", err)
				}
			}
			parts = append(parts, part)
		}
	}
	out, err := os.Create(abs)
	if err != nil {
		return err
	}
	merge := exec.Command("go", append([]string{"tool", "pprof", "-proto"}, parts...)...)
	merge.Stdout, merge.Stderr = out, stderr
	err = merge.Run()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("profile: merge: %w", err)
	}
	fmt.Fprintf(stdout, "\nCPU profile of logtriage analyze (%d runs) in %s, top 10:\n", runs*len(inputs), file)
	top := exec.Command("go", "tool", "pprof", "-top", "-nodecount", "10", bin, abs)
	top.Stdout, top.Stderr = stdout, stderr
	return top.Run()
}
