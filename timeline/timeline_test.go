package timeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/source"
)

// Lines in the two layouts, at a given second of 2026-11-21.
func nginxLine(hms, msg string) string {
	return "2026/11/21 " + hms + " [error] 29442#29442: *24 " + msg + ", client: 127.0.0.1, server: shop.test, request: \"GET /slow.php HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"shop.test\"\n"
}

func fpmLine(hms, msg string) string {
	return "[21-Nov-2026 " + hms + "] WARNING: [pool www] " + msg + "\n"
}

// text is an Input reading a string.
func text(name, s string) Input {
	return Input{
		Name:    name,
		Open:    func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil },
		Options: parser.Options{Location: time.UTC},
	}
}

// each is a newPrepare whose workers all run f; nil for a nil f.
func each[T any](f func(*parser.Entry, *T)) func() func(*parser.Entry, *T) {
	if f == nil {
		return nil
	}
	return func() func(*parser.Entry, *T) { return f }
}

// run merges inputs and returns each record as "file time message".
func run(t *testing.T, inputs []Input) ([]string, []Result) {
	t.Helper()
	var got []string
	res := Merge(t.Context(), inputs, func(e *parser.Entry) {
		got = append(got, fmt.Sprintf("%s %s %s", e.File, e.Time.Format("15:04:05"), e.Message))
	})
	return got, res
}

func TestMergeInterleavesByTime(t *testing.T) {
	nginx := nginxLine("19:26:08", "upstream timed out (110: Connection timed out) while reading response header from upstream") +
		nginxLine("19:26:10", "connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream") +
		nginxLine("19:26:12", "a") +
		nginxLine("19:27:00", "b")
	fpm := fpmLine("19:26:09", "server reached pm.max_children setting (2), consider raising it") +
		fpmLine("19:26:11", "child 24168 exited on signal 15 (SIGTERM) after 80.062813 seconds from start") +
		// php-fpm child output has no timestamp: it takes the time of
		// the record before it and stays after it.
		"NOTICE: PHP message: PHP Warning:  Undefined variable $x in /var/www/a.php on line 3\n" +
		fpmLine("19:26:12", "c")
	got, res := run(t, []Input{text("nginx", nginx), text("fpm", fpm)})
	want := []string{
		"nginx 19:26:08 upstream timed out (110: Connection timed out) while reading response header from upstream",
		"fpm 19:26:09 server reached pm.max_children setting (2), consider raising it",
		"nginx 19:26:10 connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream",
		"fpm 19:26:11 child 24168 exited on signal 15 (SIGTERM) after 80.062813 seconds from start",
		"fpm 19:26:11 PHP message: PHP Warning:  Undefined variable $x in /var/www/a.php on line 3",
		// A tie goes to the earlier input.
		"nginx 19:26:12 a",
		"fpm 19:26:12 c",
		"nginx 19:27:00 b",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	wantRes := []Result{
		{Name: "nginx", Stats: parser.Stats{Lines: 4, Bytes: int64(len(nginx)), Records: 4, Parsed: 4}},
		{Name: "fpm", Stats: parser.Stats{Lines: 4, Bytes: int64(len(fpm)), Records: 4, Parsed: 4}},
	}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// Apache and php-fpm write fractions of a second: records of one second
// in two logs are merged by them.
func TestMergeOrdersWithinASecond(t *testing.T) {
	apache := func(frac, msg string) string {
		return "[Sat Nov 21 19:46:31." + frac + " 2026] [proxy:error] [pid 4101:tid 140027863615232] " + msg + "\n"
	}
	a := apache("500000", "a1") + apache("900001", "a2") + apache("900001", "a3")
	b := apache("100000", "b1") + apache("700000", "b2") + apache("900000", "b3") + apache("900001", "b4")
	var got []string
	Merge(t.Context(), []Input{text("a", a), text("b", b)}, func(e *parser.Entry) { got = append(got, e.Message) })
	want := []string{"b1", "a1", "b2", "b3", "a2", "a3", "b4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
}

func TestMergeEqualTimesAreStable(t *testing.T) {
	a := nginxLine("10:00:00", "a1") + nginxLine("10:00:00", "a2") + nginxLine("10:00:00", "a3") + nginxLine("10:00:01", "a4")
	b := fpmLine("10:00:00", "b1") + fpmLine("10:00:00", "b2") + fpmLine("10:00:01", "b3")
	c := nginxLine("09:59:59", "c1") + nginxLine("10:00:00", "c2")
	tests := []struct {
		names string
		in    []Input
		want  []string
	}{
		{"a,b,c", []Input{text("a", a), text("b", b), text("c", c)},
			[]string{"c1", "a1", "a2", "a3", "b1", "b2", "c2", "a4", "b3"}},
		{"c,b,a", []Input{text("c", c), text("b", b), text("a", a)},
			[]string{"c1", "c2", "b1", "b2", "a1", "a2", "a3", "b3", "a4"}},
		{"b,b", []Input{text("b", b), text("b", b)},
			[]string{"b1", "b2", "b1", "b2", "b3", "b3"}},
	}
	for _, tt := range tests {
		t.Run(tt.names, func(t *testing.T) {
			for range 20 { // the goroutines' timing must not matter
				var got []string
				Merge(t.Context(), tt.in, func(e *parser.Entry) { got = append(got, e.Message) })
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Fatalf("merged (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// An input whose clock goes backwards, or that starts with lines without
// a time, keeps its own order.
func TestMergeKeepsInputOrder(t *testing.T) {
	a := "garbage before any timestamp\n" +
		nginxLine("10:00:10", "a10") +
		nginxLine("10:00:03", "a3 (clock went back)") +
		nginxLine("10:00:11", "a11")
	b := nginxLine("10:00:01", "b1") + nginxLine("10:00:04", "b4") + nginxLine("10:00:12", "b12")
	got, _ := run(t, []Input{text("a", a), text("b", b)})
	want := []string{
		"a 00:00:00 garbage before any timestamp",
		"b 10:00:01 b1",
		"b 10:00:04 b4",
		"a 10:00:10 a10",
		"a 10:00:03 a3 (clock went back)",
		"a 10:00:11 a11",
		"b 10:00:12 b12",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
}

// The parser gives records without a time the time before them, so a
// zero time in the middle of an input is only seen from other producers;
// merge must still hold it at its input's previous time.
func TestMergeZeroTimeTakesPreviousTime(t *testing.T) {
	at := func(sec int) time.Time { return time.Date(2026, 11, 21, 10, 0, sec, 0, time.UTC) }
	// feed is an input of one part, its queue holding es, one batch per
	// record.
	feed := func(index int, es ...parser.Entry) *stream[struct{}] {
		q := make(chan *batch[struct{}], len(es))
		for _, e := range es {
			q <- &batch[struct{}]{entries: []parser.Entry{e}, values: make([]struct{}, 1)}
		}
		close(q)
		parts := make(chan queue[struct{}], 1)
		parts <- queue[struct{}]{batches: q}
		close(parts)
		return &stream[struct{}]{index: index, parts: parts, free: make(chan *batch[struct{}], len(es))}
	}
	a := feed(0, parser.Entry{Message: "a5", Time: at(5)}, parser.Entry{Message: "a-zero"}, parser.Entry{Message: "a7", Time: at(7)})
	b := feed(1, parser.Entry{Message: "b4", Time: at(4)}, parser.Entry{Message: "b6", Time: at(6)})
	var got []string
	merge(t.Context(), []*stream[struct{}]{a, b}, func(e *parser.Entry, _ *struct{}) { got = append(got, e.Message) })
	// a-zero sorts at 10:00:05, before b6, not at the start of time.
	want := []string{"b4", "a5", "a-zero", "b6", "a7"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
}

func TestMergeOpenError(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.log")
	open := func(name string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return source.Open(name, nil) }
	}
	in := []Input{
		text("nginx", nginxLine("10:00:00", "n1")+nginxLine("10:00:02", "n2")),
		{Name: missing, Open: open(missing)},
		{Name: dir, Open: open(dir)},
		text("fpm", fpmLine("10:00:01", "f1")),
	}
	got, res := run(t, in)
	want := []string{"nginx 10:00:00 n1", "fpm 10:00:01 f1", "nginx 10:00:02 n2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	if r := res[1]; r.Name != missing || !errors.Is(r.Err, os.ErrNotExist) || !strings.Contains(r.Err.Error(), missing) || r.Stats.Lines != 0 {
		t.Errorf("missing file: %+v", r)
	}
	if r := res[2]; !errors.Is(r.Err, source.ErrIsDir) {
		t.Errorf("directory: %+v", r)
	}
	for _, i := range []int{0, 3} {
		if res[i].Err != nil || res[i].Stats.Records == 0 {
			t.Errorf("input %d: %+v", i, res[i])
		}
	}
}

func TestMergeReadError(t *testing.T) {
	errDisk := errors.New("read error.log: input/output error")
	broken := nginxLine("10:00:00", "n1") + nginxLine("10:00:02", "n2")
	closed := false
	in := []Input{
		{
			Name: "nginx",
			Open: func() (io.ReadCloser, error) {
				r := io.MultiReader(strings.NewReader(broken), iotest.ErrReader(errDisk))
				return readCloser{r, func() { closed = true }}, nil
			},
		},
		text("fpm", fpmLine("10:00:01", "f1")+fpmLine("10:00:03", "f3")),
	}
	got, res := run(t, in)
	want := []string{"nginx 10:00:00 n1", "fpm 10:00:01 f1", "nginx 10:00:02 n2", "fpm 10:00:03 f3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	if !errors.Is(res[0].Err, errDisk) || res[0].Stats.Records != 2 {
		t.Errorf("broken input: %+v", res[0])
	}
	if res[1].Err != nil {
		t.Errorf("fpm: %v", res[1].Err)
	}
	if !closed {
		t.Error("the broken input was not closed")
	}
}

// A rotated set is passed as one input per file, in source.Order; gzip
// members are opened by source.Open.
func TestMergeRotatedSet(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data string, zip bool) string {
		p := filepath.Join(dir, name)
		b := []byte(data)
		if zip {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			b = buf.Bytes()
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	names := source.Order([]string{
		write("error.log", nginxLine("10:00:05", "live"), false),
		write("error.log.1", nginxLine("10:00:03", "one"), false),
		write("error.log.2.gz", nginxLine("10:00:01", "two"), true),
		write("php8.2-fpm.log", fpmLine("10:00:00", "f0")+fpmLine("10:00:04", "f4"), false),
	})
	var in []Input
	for _, n := range names {
		in = append(in, Input{
			Name:    filepath.Base(n),
			Open:    func() (io.ReadCloser, error) { return source.Open(n, nil) },
			Options: parser.Options{Location: time.UTC},
		})
	}
	got, res := run(t, in)
	want := []string{
		"php8.2-fpm.log 10:00:00 f0",
		"error.log.2.gz 10:00:01 two",
		"error.log.1 10:00:03 one",
		"php8.2-fpm.log 10:00:04 f4",
		"error.log 10:00:05 live",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Error(r.Err)
		}
	}
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }

// endless is a log that never ends: one nginx record per Read, a second
// apart, optionally sleeping before each.
type endless struct {
	n     int
	sleep time.Duration
	reads *atomic.Int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.sleep > 0 {
		time.Sleep(e.sleep)
	}
	t := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).Add(time.Duration(e.n) * time.Second)
	e.n++
	if e.reads != nil {
		e.reads.Add(1)
	}
	return copy(p, t.Format("2006/01/02 15:04:05")+" [error] 1#1: *1 endless\n"), nil
}

// endlessInput counts the inputs still open in open.
func endlessInput(name string, sleep time.Duration, open, reads *atomic.Int64) Input {
	return Input{
		Name: name,
		Open: func() (io.ReadCloser, error) {
			open.Add(1)
			return readCloser{&endless{sleep: sleep, reads: reads}, func() { open.Add(-1) }}, nil
		},
		Options: parser.Options{Location: time.UTC},
	}
}

// Cancelling stops the merge and every producer; synctest.Test fails if
// any goroutine Merge started is still blocked when it returns.
func TestMergeCancel(t *testing.T) {
	for _, prepare := range []func(*parser.Entry, *int){nil, func(e *parser.Entry, v *int) { *v = len(e.Message) }} {
		t.Run(fmt.Sprintf("from emit, prepare=%t", prepare != nil), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				var open atomic.Int64
				in := []Input{endlessInput("a", 0, &open, nil), endlessInput("b", 0, &open, nil), text("short", nginxLine("00:00:00", "s"))}
				n, late := 0, 0
				res := MergeWith(ctx, in, each(prepare), func(*parser.Entry, *int) {
					if ctx.Err() != nil {
						late++
					}
					if n++; n == 1000 {
						cancel()
					}
				})
				if n != 1000 || late != 0 {
					t.Errorf("%d records emitted, %d after cancel", n, late)
				}
				if open.Load() != 0 {
					t.Errorf("%d inputs left open", open.Load())
				}
				for _, r := range res[:2] {
					if !errors.Is(r.Err, context.Canceled) {
						t.Errorf("%s: err %v, want context.Canceled", r.Name, r.Err)
					}
				}
				if res[2].Err != nil {
					t.Errorf("short input finished before the cancel: %v", res[2].Err)
				}
			})
		})
	}
	t.Run("while waiting for a slow input", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
			defer cancel()
			var open atomic.Int64
			in := []Input{endlessInput("fast", 0, &open, nil), endlessInput("slow", time.Minute, &open, nil)}
			start := time.Now()
			n := 0
			res := Merge(ctx, in, func(*parser.Entry) { n++ })
			// The slow input is read once a minute; a record is released
			// only when the slow one has caught up, so about 10 each.
			if took := time.Since(start); took < 10*time.Minute || took > 11*time.Minute {
				t.Errorf("Merge returned after %v", took)
			}
			if n < 10 || n > 30 {
				t.Errorf("%d records emitted", n)
			}
			if open.Load() != 0 {
				t.Errorf("%d inputs left open", open.Load())
			}
			for _, r := range res {
				if !errors.Is(r.Err, context.DeadlineExceeded) {
					t.Errorf("%s: err %v, want context.DeadlineExceeded", r.Name, r.Err)
				}
			}
		})
	})
	t.Run("before the start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var open atomic.Int64
		res := Merge(ctx, []Input{endlessInput("a", 0, &open, nil)}, func(*parser.Entry) { t.Error("record emitted") })
		if !errors.Is(res[0].Err, context.Canceled) {
			t.Errorf("err %v", res[0].Err)
		}
	})
}

// A consumer that does not keep up holds the producers back: they stop
// reading once their queues are full.
func TestMergeBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var open, reads atomic.Int64
		in := []Input{endlessInput("a", 0, &open, &reads), endlessInput("b", 0, &open, &reads)}
		ctx, cancel := context.WithCancel(t.Context())
		first := true
		Merge(ctx, in, func(*parser.Entry) {
			if !first {
				return
			}
			first = false
			synctest.Wait() // until both producers are blocked
			r := reads.Load()
			synctest.Wait()
			// One Read per record; per input, the queued batches, the
			// merge's, the one being filled and the record the parser
			// holds until the next line.
			if r > 2*((queueLen+2)*batchLen+2) || reads.Load() != r {
				t.Errorf("producers read %d records ahead of a stalled consumer", r)
			}
			cancel()
		})
	})
}

// MergeWith runs prepare on every record before the merge and hands
// emit each record with its own value, in the order Merge gives, over
// inputs long enough for many batches, so batches are recycled.
func TestMergeWithPreparesEveryRecord(t *testing.T) {
	lines := func(prefix string, from, n int) string {
		var b strings.Builder
		for i := range n {
			hms := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).Add(time.Duration(from+2*i) * time.Second).Format("15:04:05")
			b.WriteString(nginxLine(hms, fmt.Sprintf("%s%d", prefix, i)))
		}
		return b.String()
	}
	in := []Input{
		text("a", lines("a", 0, 5*batchLen+7)),
		text("b", lines("b", 1, 3*batchLen)),
		text("c", "not a log line\n2026/11/21 10:00:00 [error] 1#1: *1 c0\n"),
	}
	var want []string
	Merge(t.Context(), in, func(e *parser.Entry) { want = append(want, e.Message) })

	type value struct {
		message string
		calls   int
	}
	var got []string
	var bad atomic.Int64
	res := MergeWith(t.Context(), in,
		each(func(e *parser.Entry, v *value) {
			if *v != (value{}) { // a recycled value must come back zero
				bad.Add(1)
			}
			v.message = e.Message
			v.calls++
		}),
		func(e *parser.Entry, v *value) {
			if v.message != e.Message || v.calls != 1 {
				t.Errorf("record %q came with value %+v", e.Message, *v)
			}
			got = append(got, e.Message)
		})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	if len(got) != 8*batchLen+7+2 {
		t.Errorf("%d records, want %d", len(got), 8*batchLen+7+2)
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("prepare got %d values that were not zero", n)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Name, r.Err)
		}
	}
}

// Each worker of the pool calls newPrepare once and runs what it returns
// on its own records only: that function is never called from two
// goroutines at once, so scratch space of its own needs no lock.
func TestMergeWithPrepareIsPerWorker(t *testing.T) {
	// Four workers, whatever the machine: on one core they still take
	// turns within a batch (Gosched), which a shared function would show.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var b strings.Builder
	for i := range 40 * batchLen {
		hms := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format("15:04:05")
		b.WriteString(nginxLine(hms, fmt.Sprint(i)))
	}
	in := []Input{text("a", b.String()), text("b", b.String())}
	var made, overlaps, prepared atomic.Int64
	newPrepare := func() func(*parser.Entry, *int64) {
		id := made.Add(1)
		var busy atomic.Bool
		return func(_ *parser.Entry, v *int64) {
			if !busy.CompareAndSwap(false, true) {
				overlaps.Add(1)
			}
			*v = id
			prepared.Add(1)
			runtime.Gosched() // give another goroutine the chance to come in
			busy.Store(false)
		}
	}
	unprepared := 0
	MergeWith(t.Context(), in, newPrepare, func(_ *parser.Entry, v *int64) {
		if *v < 1 || *v > made.Load() {
			unprepared++
		}
	})
	if n := prepared.Load(); n != 2*40*batchLen {
		t.Errorf("%d records prepared, want %d", n, 2*40*batchLen)
	}
	if n := made.Load(); n != 4 {
		t.Errorf("newPrepare called %d times, want once per worker (4)", n)
	}
	if unprepared != 0 {
		t.Errorf("%d records came without the value of a prepare function", unprepared)
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("a prepare function ran on two goroutines at once %d times", n)
	}
}

// blocking is a log that writes lines, then waits for more that never
// come, until ctx is done: a pipe whose writer went quiet.
type blocking struct {
	ctx   context.Context
	lines []string
}

func (b *blocking) Read(p []byte) (int, error) {
	if len(b.lines) == 0 {
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	n := copy(p, b.lines[0])
	b.lines = b.lines[1:]
	return n, nil
}

// Records an input has parsed are merged while its next read blocks: a
// batch is handed over before each read, full or not.
func TestMergeHandsOverBeforeBlocking(t *testing.T) {
	for _, prepare := range []bool{false, true} {
		t.Run(fmt.Sprintf("prepare=%t", prepare), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				in := []Input{{
					Name: "quiet",
					Open: func() (io.ReadCloser, error) {
						return io.NopCloser(&blocking{ctx, []string{
							nginxLine("10:00:00", "r1"), nginxLine("10:00:01", "r2"), nginxLine("10:00:02", "r3"),
						}}), nil
					},
					Options: parser.Options{Location: time.UTC},
				}}
				var got []string
				emit := func(e *parser.Entry, _ *bool) {
					// r3 stays with the parser until the line after it.
					if got = append(got, e.Message); len(got) == 2 {
						cancel()
					}
				}
				var pre func(*parser.Entry, *bool)
				if prepare {
					pre = func(_ *parser.Entry, v *bool) { *v = true }
				}
				res := MergeWith(ctx, in, each(pre), emit)
				if diff := cmp.Diff([]string{"r1", "r2"}, got); diff != "" {
					t.Errorf("merged (-want +got):\n%s", diff)
				}
				if !errors.Is(res[0].Err, context.Canceled) {
					t.Errorf("err %v, want context.Canceled", res[0].Err)
				}
			})
		})
	}
}

func TestMergeNoInputs(t *testing.T) {
	res := Merge(t.Context(), nil, func(*parser.Entry) { t.Error("record emitted") })
	if len(res) != 0 {
		t.Errorf("results: %+v", res)
	}
}

func BenchmarkMerge(b *testing.B) {
	var log strings.Builder
	for i := range 10000 {
		log.WriteString(nginxLine(time.Date(2026, 11, 21, 0, 0, i, 0, time.UTC).Format("15:04:05"), "upstream timed out (110: Connection timed out) while reading response header from upstream"))
	}
	s := log.String()
	in := []Input{text("a", s), text("b", s), text("c", s)}
	b.SetBytes(int64(3 * len(s)))
	for b.Loop() {
		n := 0
		Merge(b.Context(), in, func(*parser.Entry) { n++ })
		if n != 30000 {
			b.Fatal(n)
		}
	}
}

// An input read as a stream (not cut) whose reads bring many records:
// cancelled at its first record, the records parsed after that are
// dropped, however many a read brought.
func TestMergeCancelStreamManyRecordsPerRead(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		b.WriteString(nginxLine(fmt.Sprintf("10:%02d:%02d", i/60%60, i%60), "recv() failed"))
	}
	log := b.String()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := []Input{{Name: "pipe", Open: func() (io.ReadCloser, error) {
		// Only a Reader: a pipe, not a file that can be cut.
		return io.NopCloser(struct{ io.Reader }{strings.NewReader(log)}), nil
	}, Options: parser.Options{Location: time.UTC}}}
	n := 0
	res := MergeWith(ctx, in, each(func(*parser.Entry, *int) {}), func(*parser.Entry, *int) {
		if n++; n == 1 {
			cancel()
		}
	})
	if n != 1 {
		t.Errorf("%d records emitted, want 1", n)
	}
	if !errors.Is(res[0].Err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", res[0].Err)
	}
}
