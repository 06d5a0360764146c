package state

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/source"
)

// The scenarios below rotate real files the way logrotate does (rename,
// create, gzip, copy and truncate) and run the digest's side of the
// protocol each time: Load, Plan, read every segment, Commit, Save. Each
// log line carries its number and a time; a run must return exactly the
// lines written since the previous run, whole, in order.

// recordTime is the time of line n; file modification times come from a
// separate clock, env.clock.
func recordTime(n int) time.Time {
	return time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
}

func lineText(n int) string {
	return fmt.Sprintf("%s [error] 1#1: line %d upstream timed out (110: Connection timed out)\n",
		recordTime(n).Format(time.RFC3339), n)
}

type env struct {
	t         *testing.T
	dir       string
	log       string // the live path
	statePath string
	clock     time.Time // now, for the runs and for file times
	since     time.Time // passed to Plan
	next      int       // number of the next line to write
	half      bool      // the next line's first half is written
}

type step func(e *env)

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	return &env{
		t:         t,
		dir:       dir,
		log:       filepath.Join(dir, "error.log"),
		statePath: filepath.Join(dir, "state.json"),
		clock:     time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC),
		next:      1,
	}
}

// name turns a suffix into a path: "" is the live file.
func (e *env) name(suffix string) string { return e.log + suffix }

// touched gives the file the current time and moves the clock on, so
// that every change is distinguishable by modification time.
func (e *env) touched(name string) {
	e.t.Helper()
	if err := os.Chtimes(name, e.clock, e.clock); err != nil {
		e.t.Fatal(err)
	}
	e.clock = e.clock.Add(time.Minute)
}

func (e *env) write(suffix string, data string) {
	e.t.Helper()
	f, err := os.OpenFile(e.name(suffix), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		e.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.touched(e.name(suffix))
}

// appendTo writes the next n lines to the file with suffix.
func appendTo(suffix string, n int) step {
	return func(e *env) {
		var b strings.Builder
		for range n {
			text := lineText(e.next)
			if e.half {
				text = text[len(text)/2:]
				e.half = false
			}
			b.WriteString(text)
			e.next++
		}
		e.write(suffix, b.String())
	}
}

func appendLines(n int) step { return appendTo("", n) }

// halfLine writes the first half of the next line, as a server caught
// mid-write; appendTo finishes it.
func halfLine(suffix string) step {
	return func(e *env) {
		text := lineText(e.next)
		e.write(suffix, text[:len(text)/2])
		e.half = true
	}
}

// rename is mv error.log<from> error.log<to>; the time does not change.
func rename(from, to string) step {
	return func(e *env) {
		if err := os.Rename(e.name(from), e.name(to)); err != nil {
			e.t.Fatal(err)
		}
	}
}

// create makes a new empty live file, as logrotate's create does.
func create() step { return func(e *env) { e.write("", "") } }

// replace puts a new empty file in place of the live one, which is
// deleted. The new file is made while the old one exists, so that it
// cannot get its inode.
func replace() step {
	return func(e *env) {
		e.write(".new", "")
		rename(".new", "")(e)
	}
}

// compress gzips error.log<suffix> into error.log<suffix>.gz and removes
// it, as logrotate's compress does.
func compress(suffix string) step {
	return func(e *env) {
		e.t.Helper()
		data, err := os.ReadFile(e.name(suffix))
		if err != nil {
			e.t.Fatal(err)
		}
		writeGzip(e.t, e.name(suffix+".gz"), data)
		e.touched(e.name(suffix + ".gz"))
		if err := os.Remove(e.name(suffix)); err != nil {
			e.t.Fatal(err)
		}
	}
}

func writeGzip(t *testing.T, name string, data []byte) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyTo copies the live file to error.log<suffix>, as copytruncate does
// before it truncates.
func copyTo(suffix string) step {
	return func(e *env) {
		e.t.Helper()
		data, err := os.ReadFile(e.log)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(e.name(suffix), data, 0o644); err != nil {
			e.t.Fatal(err)
		}
		e.touched(e.name(suffix))
	}
}

// truncate empties the live file in place.
func truncate() step {
	return func(e *env) {
		if err := os.Truncate(e.log, 0); err != nil {
			e.t.Fatal(err)
		}
		e.touched(e.log)
	}
}

func remove(suffix string) step {
	return func(e *env) {
		if err := os.Remove(e.name(suffix)); err != nil {
			e.t.Fatal(err)
		}
	}
}

// rewrite replaces error.log<suffix> with a new file holding lines
// from..to, as an edit that keeps no inode and no first line would.
func rewrite(suffix string, from, to int) step {
	return func(e *env) {
		remove(suffix)(e)
		var b strings.Builder
		for n := from; n <= to; n++ {
			b.WriteString(lineText(n))
		}
		e.write(suffix, b.String())
	}
}

// renumberDevice changes the device number in the state, as a reboot
// can (device mapper, NFS).
func renumberDevice() step {
	return func(e *env) {
		st, err := Load(e.statePath)
		if err != nil {
			e.t.Fatal(err)
		}
		f := st.files[e.log]
		f.Dev++
		st.files[e.log] = f
		if err := st.Save(e.statePath); err != nil {
			e.t.Fatal(err)
		}
	}
}

// markSince makes the current time the since of the runs that follow.
func markSince() step {
	return func(e *env) { e.since = e.clock; e.clock = e.clock.Add(time.Minute) }
}

// run is one digest run. It must read the files named by their suffixes
// (each once), return lines from..to (none when to < from) and give one
// note containing each of notes.
func run(files []string, from, to int, notes ...string) step {
	return func(e *env) {
		e.t.Helper()
		st, err := Load(e.statePath)
		if err != nil {
			e.t.Fatal(err)
		}
		st.now = func() time.Time { return e.clock }
		p, err := st.Plan(e.log, e.since)
		if err != nil {
			e.t.Fatal(err)
		}
		e.clock = e.clock.Add(time.Minute)

		var read []string
		var got []string
		var last time.Time
		for _, seg := range p.Segments {
			read = append(read, strings.TrimPrefix(seg.Path, e.log))
			lines, err := readSegment(seg)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, l := range lines {
				ts, err := time.Parse(time.RFC3339, l[:min(len(l), len(time.RFC3339)-5)])
				if err != nil {
					e.t.Fatalf("line %q cut at its start", l)
				}
				if !seg.After.IsZero() && !ts.After(seg.After) {
					continue
				}
				got = append(got, l)
				last = ts
			}
		}
		st.Commit(p, last)
		if err := st.Save(e.statePath); err != nil {
			e.t.Fatal(err)
		}

		var want []string
		for n := from; n <= to; n++ {
			want = append(want, lineText(n))
		}
		if diff := cmp.Diff(files, read); diff != "" {
			e.t.Errorf("files read (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			e.t.Errorf("lines (-want +got):\n%s", diff)
		}
		if len(p.Notes) != len(notes) {
			e.t.Errorf("notes: %q, want %d containing %q", p.Notes, len(notes), notes)
		}
		for i := range min(len(p.Notes), len(notes)) {
			if !strings.Contains(p.Notes[i], notes[i]) {
				e.t.Errorf("note %q does not contain %q", p.Notes[i], notes[i])
			}
		}
	}
}

func readSegment(seg Segment) ([]string, error) {
	r, err := seg.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var lines []string
	br := bufio.NewReader(r)
	for {
		l, err := br.ReadString('\n')
		if l != "" {
			lines = append(lines, l)
		}
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func files(suffixes ...string) []string { return suffixes }

func TestRotation(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "no change",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				run(nil, 1, 0),
			},
		},
		{
			name: "appended lines",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), run(files(""), 4, 5),
				appendLines(1), run(files(""), 6, 6),
			},
		},
		{
			name: "empty live file, then lines",
			steps: []step{
				create(), run(nil, 1, 0),
				appendLines(2), run(files(""), 1, 2),
			},
		},
		{
			name: "rename and create",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), create(), appendLines(2),
				run(files(".1", ""), 4, 7),
				appendLines(1), run(files(""), 8, 8),
			},
		},
		{
			name: "rename and create, the server writes to the old file until it reopens",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				rename("", ".1"), create(), appendTo(".1", 2), appendLines(1),
				run(files(".1", ""), 4, 6),
			},
		},
		{
			name: "rename and create of an empty file",
			steps: []step{
				create(), run(nil, 1, 0),
				rename("", ".1"), create(), appendLines(2),
				run(files(""), 1, 2),
			},
		},
		{
			name: "rename and gzip",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), create(), compress(".1"), appendLines(2),
				run(files(".1.gz", ""), 4, 7),
				appendLines(1), run(files(""), 8, 8),
			},
		},
		{
			name: "delaycompress",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), create(), appendLines(1),
				run(files(".1", ""), 4, 6),
				appendLines(2), rename(".1", ".2"), compress(".2"), rename("", ".1"), create(), appendLines(1),
				run(files(".1", ""), 7, 9),
			},
		},
		{
			name: "two rotations since the last run",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), create(), appendLines(2),
				rename(".1", ".2"), compress(".2"), rename("", ".1"), create(), appendLines(1),
				run(files(".2.gz", ".1", ""), 4, 8),
			},
		},
		{
			name: "two rotations, both compressed",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), compress(".1"), create(), appendLines(2),
				rename(".1.gz", ".2.gz"), rename("", ".1"), compress(".1"), create(), appendLines(1),
				run(files(".2.gz", ".1.gz", ""), 4, 8),
			},
		},
		{
			name: "while logrotate compresses",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), create(), appendLines(1),
				// .1.gz is being written: only its first half is there.
				func(e *env) {
					data, err := os.ReadFile(e.name(".1"))
					if err != nil {
						e.t.Fatal(err)
					}
					writeGzip(e.t, e.name(".1.gz"), data)
					gz, err := os.ReadFile(e.name(".1.gz"))
					if err != nil {
						e.t.Fatal(err)
					}
					if err := os.WriteFile(e.name(".1.gz"), gz[:len(gz)/2], 0o644); err != nil {
						e.t.Fatal(err)
					}
				},
				run(files(".1", ""), 4, 6),
			},
		},
		{
			name: "dateext",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", "-20261120"), create(), appendLines(1),
				run(files("-20261120", ""), 4, 6),
				appendLines(1), rename("", "-20261121"), compress("-20261121"), create(), appendLines(1),
				run(files("-20261121.gz", ""), 7, 8),
				// delaycompress: the older one is compressed at the next rotation.
				appendLines(1), rename("", "-20261122"), compress("-20261120"), create(),
				appendLines(1), rename("", "-20261123"), create(), appendLines(1),
				run(files("-20261122", "-20261123", ""), 9, 11),
			},
		},
		{
			// Longer than the 4 KiB looked at to recognise a file: the
			// compressed rotations are decompressed up to the offset.
			name: "long files, compressed twice",
			steps: []step{
				appendLines(100), run(files(""), 1, 100),
				appendLines(100), rename("", ".1"), compress(".1"), create(), appendLines(100),
				run(files(".1.gz", ""), 101, 300),
				appendLines(100), rename(".1.gz", ".2.gz"), rename("", ".1"), compress(".1"), create(), appendLines(100),
				rename(".2.gz", ".3.gz"), rename(".1.gz", ".2.gz"), rename("", ".1"), create(), appendLines(1),
				run(files(".2.gz", ".1", ""), 301, 501),
				appendLines(1), rename(".1", ".2"), rename("", ".1"), compress(".1"),
				run(files(".1.gz"), 502, 502, "does not exist"),
			},
		},
		{
			name: "copytruncate",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), copyTo(".1"), truncate(), appendLines(1),
				run(files(".1", ""), 4, 6),
				appendLines(1), run(files(""), 7, 7),
			},
		},
		{
			name: "copytruncate, the live file regrows past the old offset",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), copyTo(".1"), truncate(), appendLines(10),
				run(files(".1", ""), 4, 15),
			},
		},
		{
			name: "copytruncate and compress",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), copyTo(".1"), truncate(), compress(".1"), appendLines(1),
				run(files(".1.gz", ""), 4, 6),
			},
		},
		{
			name: "copytruncate twice, delaycompress",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), copyTo(".1"), truncate(), appendLines(2),
				rename(".1", ".2"), compress(".2"), copyTo(".1"), truncate(), appendLines(1),
				run(files(".2.gz", ".1", ""), 4, 8),
			},
		},
		{
			name: "copytruncate of a file that had nothing new",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				copyTo(".1"), truncate(), appendLines(1),
				run(files(""), 4, 4),
			},
		},
		{
			name: "truncated without a copy",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				// Lines 4 and 5 are gone with the truncation.
				appendLines(2), truncate(), appendLines(2),
				run(files(""), 6, 7, "truncated"),
			},
		},
		{
			name: "truncated without a copy, regrown past the old offset",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), truncate(), appendLines(10),
				run(files(""), 6, 15, "truncated"),
			},
		},
		{
			name: "truncated to nothing",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				truncate(), run(nil, 1, 0, "truncated"),
				appendLines(1), run(files(""), 4, 4),
			},
		},
		{
			name: "live file missing",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"),
				run(files(".1"), 4, 5, "does not exist"),
				appendTo(".1", 1), create(), appendLines(1),
				run(files(".1", ""), 6, 7),
			},
		},
		{
			name: "live file missing, rotation compressed",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), compress(".1"),
				run(files(".1.gz"), 4, 5, "does not exist"),
				run(nil, 1, 0, "does not exist"),
				create(), appendLines(1),
				run(files(""), 6, 6),
				appendLines(1), run(files(""), 7, 7),
			},
		},
		{
			name: "live file missing twice, then rotated again",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				rename("", ".1"), run(nil, 1, 0, "does not exist"),
				appendTo(".1", 1), run(files(".1"), 4, 4, "does not exist"),
				rename(".1", ".2"), create(), appendLines(1), rename("", ".1"), create(), appendLines(1),
				run(files(".1", ""), 5, 6),
			},
		},
		{
			name: "the file read last is gone",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), create(), appendLines(1),
				rename(".1", ".2"), rename("", ".1"), create(), appendLines(1),
				remove(".2"),
				// Lines 4 and 5 were only in .2.
				run(files(".1", ""), 6, 7, "is gone"),
				appendLines(1), run(files(""), 8, 8),
			},
		},
		{
			name: "the file read last is gone, records already read are skipped",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				appendLines(2), rename("", ".1"), create(), appendLines(1),
				// .1 is rewritten without line 1: a new inode, another first line.
				rewrite(".1", 2, 5),
				run(files(".1", ""), 4, 6, "is gone"),
			},
		},
		{
			name: "the file read last is gone, files older than the last run are not read",
			steps: []step{
				appendLines(2), rename("", ".1"), compress(".1"), create(), appendLines(3),
				run(files(".1.gz", ""), 1, 5),
				appendLines(1), replace(), appendLines(1),
				run(files(""), 7, 7, "is gone"),
			},
		},
		{
			name: "an empty file read last, rotated and compressed",
			steps: []step{
				appendLines(2), run(files(""), 1, 2),
				rename("", ".1"), create(), run(nil, 1, 0),
				// No create: the server makes the file when it writes, maybe
				// with the inode the compressed one had.
				appendLines(2), rename("", ".1"), compress(".1"), appendLines(1),
				run(files(".1.gz", ""), 3, 5),
			},
		},
		{
			name: "device renumbered by a reboot",
			steps: []step{
				appendLines(3), run(files(""), 1, 3),
				renumberDevice(), appendLines(2), run(files(""), 4, 5),
				renumberDevice(), appendLines(1), rename("", ".1"), create(), appendLines(1),
				run(files(".1", ""), 6, 7),
			},
		},
		{
			name: "first run reads everything",
			steps: []step{
				appendLines(2), rename("", ".1"), compress(".1"), create(),
				appendLines(2), rename(".1.gz", ".2.gz"), rename("", ".1"), create(), appendLines(1),
				run(files(".2.gz", ".1", ""), 1, 5),
			},
		},
		{
			name: "first run reads only files modified since",
			steps: []step{
				appendLines(2), rename("", ".1"), compress(".1"), create(),
				appendLines(2), rename(".1.gz", ".2.gz"), rename("", ".1"), create(),
				markSince(),
				appendTo(".1", 1), appendLines(1),
				// .2.gz is older than since; .1 was written to after it.
				run(files(".1", ""), 3, 6),
			},
		},
		{
			name: "first run, live file older than since",
			steps: []step{
				appendLines(2), markSince(),
				run(nil, 1, 0),
				appendLines(1), run(files(""), 3, 3),
			},
		},
		{
			name: "partial last line",
			steps: []step{
				appendLines(3), halfLine(""), run(files(""), 1, 3),
				run(nil, 1, 0),
				appendLines(2), run(files(""), 4, 5),
			},
		},
		{
			name: "partial last line, finished in the rotated file",
			steps: []step{
				appendLines(3), halfLine(""), run(files(""), 1, 3),
				rename("", ".1"), create(), appendTo(".1", 1), appendLines(1),
				run(files(".1", ""), 4, 5),
			},
		},
		{
			name: "partial first line",
			steps: []step{
				halfLine(""), run(nil, 1, 0),
				appendLines(1), run(files(""), 1, 1),
			},
		},
		{
			name: "partial first line, then rotated and compressed",
			steps: []step{
				halfLine(""), run(nil, 1, 0),
				appendLines(1), rename("", ".1"), compress(".1"), create(), appendLines(1),
				run(files(".1.gz", ""), 1, 2),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for _, s := range tt.steps {
				s(e)
				if t.Failed() {
					t.FailNow()
				}
			}
		})
	}
}

func TestLineEnd(t *testing.T) {
	tests := []struct {
		data        string
		from, limit int64
		want        int64
	}{
		{data: "", from: 0, limit: 8, want: 0},
		{data: "a\n", from: 0, limit: 8, want: 2},
		{data: "a\nb", from: 0, limit: 8, want: 2},
		{data: "a\nb\nccc", from: 2, limit: 8, want: 4},
		{data: "a\nb\nccc", from: 4, limit: 8, want: 4},
		// No newline after from: the partial line waits.
		{data: "a\nbbbb", from: 2, limit: 8, want: 2},
		// A partial line as long as the limit is read to the end.
		{data: "a\nbbbbbbbb", from: 2, limit: 8, want: 10},
		{data: "bbbbbbbbbbbb", from: 0, limit: 8, want: 12},
		// A newline further back than the limit is not looked for.
		{data: "a\nbbbbbbbbbb", from: 0, limit: 8, want: 12},
		// Newline found in an earlier chunk than the last.
		{data: "a\n" + strings.Repeat("b", 100<<10), from: 0, limit: 1 << 20, want: 2},
		{data: strings.Repeat("x\n", 100<<10) + "yy", from: 0, limit: 1 << 20, want: 200 << 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20q/%d/%d", tt.data, tt.from, tt.limit), func(t *testing.T) {
			got, err := lineEnd(strings.NewReader(tt.data), tt.from, int64(len(tt.data)), tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("lineEnd = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPlanSegments(t *testing.T) {
	e := newEnv(t)
	appendLines(3)(e)
	line := int64(len(lineText(1)))

	st, err := Load(e.statePath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Loaded() {
		t.Error("Loaded on a first run")
	}
	st.now = func() time.Time { return e.clock }
	p, err := st.Plan(e.log, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{{Path: e.log, Offset: 0, End: 3 * line}}
	if diff := cmp.Diff(want, p.Segments, cmp.Comparer(sameSegment)); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}
	if !p.First || p.Path != e.log {
		t.Errorf("Path %q First %v, want %q true", p.Path, p.First, e.log)
	}
	st.Commit(p, recordTime(3))
	if got := st.files[e.log]; got.Offset != 3*line || got.Size != 3*line || got.HeadLen != int(min(3*line, maxHead)) || got.Name != e.log {
		t.Errorf("committed %+v", got)
	}

	// Rotated and compressed, with more lines: resume the gzip file at
	// the decompressed offset, read it to its end, then the live file.
	appendLines(2)(e)
	rename("", ".1")(e)
	compress(".1")(e)
	create()(e)
	appendLines(1)(e)
	halfLine("")(e)
	p, err = st.Plan(e.log, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want = []Segment{
		{Path: e.log + ".1.gz", Offset: 3 * line, End: -1},
		{Path: e.log, Offset: 0, End: line},
	}
	if diff := cmp.Diff(want, p.Segments, cmp.Comparer(sameSegment)); diff != "" {
		t.Errorf("after rotation (-want +got):\n%s", diff)
	}
	if p.First || len(p.Notes) != 0 {
		t.Errorf("First %v, notes %q", p.First, p.Notes)
	}
	// The line cut by the rotation is read whole, from the rotated file.
	lines, err := readSegment(p.Segments[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{lineText(4), lineText(5)}, lines); diff != "" {
		t.Errorf("rotated file (-want +got):\n%s", diff)
	}
	st.Commit(p, time.Time{})
	if got := st.files[e.log]; !got.LastRecord.Equal(recordTime(3)) {
		t.Errorf("LastRecord %v, want the previous one kept, %v", got.LastRecord, recordTime(3))
	}

	// Gone: every file modified since the last run, After the last record.
	e.clock = e.clock.Add(time.Hour)
	st.Commit(p, recordTime(7))
	replace()(e)
	e.write("", lineText(8))
	p, err = st.Plan(e.log, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want = []Segment{{Path: e.log, Offset: 0, End: line, After: recordTime(7)}}
	if diff := cmp.Diff(want, p.Segments, cmp.Comparer(sameSegment)); diff != "" {
		t.Errorf("gone (-want +got):\n%s", diff)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "is gone") {
		t.Errorf("notes %q, want one saying the file is gone", p.Notes)
	}
}

// sameSegment compares the exported fields.
func sameSegment(a, b Segment) bool {
	return a.Path == b.Path && a.Offset == b.Offset && a.End == b.End && a.After.Equal(b.After)
}

func TestPlanLongPartialLine(t *testing.T) {
	e := newEnv(t)
	// Two lines, then a line with no newline, longer than the 1 MiB
	// looked back: it is read to the end of the file.
	appendLines(2)(e)
	e.write("", strings.Repeat("x", maxPartial+10))
	size := int64(2*len(lineText(1)) + maxPartial + 10)
	st, err := Load(e.statePath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Plan(e.log, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{{Path: e.log, Offset: 0, End: size}}
	if diff := cmp.Diff(want, p.Segments, cmp.Comparer(sameSegment)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	st.Commit(p, time.Time{})
	e.write("", "yy\n")
	appendLines(1)(e)
	p, err = st.Plan(e.log, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := readSegment(p.Segments[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"yy\n", lineText(3)}, lines); diff != "" {
		t.Errorf("next run (-want +got):\n%s", diff)
	}
}

func TestSegmentOpenChanged(t *testing.T) {
	tests := []struct {
		name   string
		change step
	}{
		{name: "rotated", change: func(e *env) { rename("", ".1")(e); create()(e); appendLines(5)(e) }},
		{name: "replaced", change: func(e *env) { replace()(e); appendLines(5)(e) }},
		{name: "truncated", change: truncate()},
		{name: "compressed in place", change: func(e *env) {
			data, err := os.ReadFile(e.log)
			if err != nil {
				e.t.Fatal(err)
			}
			writeGzip(e.t, e.log, data[:10])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			appendLines(3)(e)
			st, err := Load(e.statePath)
			if err != nil {
				t.Fatal(err)
			}
			p, err := st.Plan(e.log, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			tt.change(e)
			r, err := p.Segments[0].Open()
			if err == nil {
				r.Close()
			}
			if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), e.log) {
				t.Errorf("Open: %v, want ErrChanged naming %s", err, e.log)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	t.Run("nothing there", func(t *testing.T) {
		e := newEnv(t)
		st, err := Load(e.statePath)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Plan(e.log, time.Time{})
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), e.log) {
			t.Errorf("Plan: %v, want ErrNotExist naming %s", err, e.log)
		}
	})
	t.Run("directory", func(t *testing.T) {
		e := newEnv(t)
		if err := os.Mkdir(e.log, 0o755); err != nil {
			t.Fatal(err)
		}
		st, err := Load(e.statePath)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Plan(e.log, time.Time{})
		if err == nil || !strings.Contains(err.Error(), e.log) {
			t.Errorf("Plan: %v, want an error naming %s", err, e.log)
		}
	})
	t.Run("corrupt gzip rotation", func(t *testing.T) {
		e := newEnv(t)
		appendLines(3)(e)
		run(files(""), 1, 3)(e)
		rename("", ".1")(e)
		create()(e)
		// Not the file read last, which is .1; but the search looks at
		// the newest first, and .2.gz is not newer. Make .1 unmatchable
		// so that the search reaches a corrupt .2.gz.
		if err := os.WriteFile(e.name(".2.gz"), []byte{0x1f, 0x8b, 0, 0}, 0o644); err != nil {
			t.Fatal(err)
		}
		rewrite(".1", 2, 3)(e)
		st, err := Load(e.statePath)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Plan(e.log, time.Time{})
		if err == nil || !strings.Contains(err.Error(), e.name(".2.gz")) {
			t.Errorf("Plan: %v, want an error naming %s", err, e.name(".2.gz"))
		}
	})
}

func TestZeroState(t *testing.T) {
	e := newEnv(t)
	appendLines(2)(e)
	t.Chdir(e.dir)
	var st State
	p, err := st.Plan("error.log", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Path != e.log || len(p.Segments) != 1 || p.Segments[0].Path != e.log {
		t.Errorf("plan of a relative path: %+v, want %s", p, e.log)
	}
	st.Commit(p, recordTime(2))
	if err := st.Save("state.json"); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(e.statePath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st.files, loaded.files); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPlanSameFirstLine: every php-fpm slow log starts with an empty
// line, so two rotations of one are told apart by more than their first
// line: the bytes read, up to maxHead.
func TestPlanSameFirstLine(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "www-slow.log")
	stPath := filepath.Join(dir, "state.json")
	entry := func(n int) string {
		return fmt.Sprintf("\n%s  [pool www] pid %d\nscript_filename = /srv/www/slow.php\n[0x00007f] usleep() /srv/www/slow.php:8\n",
			recordTime(n).Format("[02-Jan-2006 15:04:05]"), 1000+n)
	}
	write := func(name string, from, to int) {
		f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		for n := from; n <= to; n++ {
			f.WriteString(entry(n))
		}
		f.Close()
	}
	digest := func() string {
		st, err := Load(stPath)
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.Plan(log, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		for _, seg := range p.Segments {
			lines, err := readSegment(seg)
			if err != nil {
				t.Fatal(err)
			}
			got.WriteString(strings.Join(lines, ""))
		}
		st.Commit(p, time.Time{})
		if err := st.Save(stPath); err != nil {
			t.Fatal(err)
		}
		return got.String()
	}
	want := func(from, to int) string {
		var b strings.Builder
		for n := from; n <= to; n++ {
			b.WriteString(entry(n))
		}
		return b.String()
	}

	write(log, 1, 2)
	if diff := cmp.Diff(want(1, 2), digest()); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}
	// More entries, then two rotations, each compressed: the newer
	// rotation is longer than the offset and starts with the same line.
	write(log, 3, 3)
	os.Rename(log, log+".1")
	write(log, 4, 20)
	writeGzipFrom(t, log+".1", log+".2.gz")
	writeGzipFrom(t, log, log+".1.gz")
	write(log, 21, 21)
	if diff := cmp.Diff(want(3, 21), digest()); diff != "" {
		t.Fatalf("after two rotations (-want +got):\n%s", diff)
	}
}

// writeGzipFrom compresses from into to and removes from.
func writeGzipFrom(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeGzip(t, to, b)
	if err := os.Remove(from); err != nil {
		t.Fatal(err)
	}
}

// A segment of a plain file opens as a source.Sectioned, its bytes the
// same by Read and by ReadAt, so that a large one is parsed on every
// core; what is left of a gzip file opens as a source.Inflated.
func TestSegmentOpenKinds(t *testing.T) {
	dir := t.TempDir()
	text := strings.Repeat("0123456789abcdef\n", 100)
	plain := filepath.Join(dir, "error.log")
	if err := os.WriteFile(plain, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(text))
	zw.Close()
	zipped := filepath.Join(dir, "error.log.1.gz")
	if err := os.WriteFile(zipped, zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	r, err := Segment{Path: plain, Offset: 17, End: 17 * 40}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sec, ok := r.(source.Sectioned)
	if !ok {
		t.Fatalf("plain segment: %T is not a source.Sectioned", r)
	}
	if sec.Size() != 17*39 {
		t.Errorf("Size %d, want %d", sec.Size(), 17*39)
	}
	at := make([]byte, 20)
	if n, err := sec.ReadAt(at, 17*38+10); n != 7 || err != io.EOF || string(at[:n]) != "abcdef\n" {
		t.Errorf("ReadAt at the end: %d %v %q, want 7 EOF %q", n, err, at[:n], "abcdef\n")
	}
	all, err := io.ReadAll(r)
	if err != nil || string(all) != text[17:17*40] {
		t.Errorf("Read: %d bytes, %v; want bytes 17 to %d", len(all), err, 17*40)
	}

	// To the end: the end the file has now.
	r, err = Segment{Path: plain, Offset: 17 * 99, End: -1}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if sec, ok := r.(source.Sectioned); !ok || sec.Size() != 17 {
		t.Errorf("plain segment to the end: %T, want a source.Sectioned of 17 bytes", r)
	}
	if all, err := io.ReadAll(r); err != nil || string(all) != text[17*99:] {
		t.Errorf("Read to the end: %q, %v; want the last line", all, err)
	}

	r, err = Segment{Path: zipped, Offset: 17 * 99, End: -1, gzip: true}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.(source.Inflated); !ok {
		t.Errorf("gzip segment: %T is not a source.Inflated", r)
	}
	if all, err := io.ReadAll(r); err != nil || string(all) != text[17*99:] {
		t.Errorf("gzip Read: %q, %v; want the last line", all, err)
	}
}
