package incident

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
	"github.com/logtriage/logtriage/source"
	"github.com/logtriage/logtriage/timeline"
)

// addLent parses line and adds its records to eng with their text lent
// (see overwritable), the buffers appended to bufs; every record must match.
func addLent(t *testing.T, eng *Engine, set *rules.Set, bufs *[][]byte, line string) {
	t.Helper()
	parser.Scan(strings.NewReader(line), parser.Options{File: "error.log", Location: time.UTC}, func(e *parser.Entry) {
		en, buf := overwritable(*e)
		*bufs = append(*bufs, buf)
		m, ok := set.Match(&en)
		if !ok {
			t.Fatalf("no rule matches %q", line)
		}
		eng.Add(&en, &m)
	})
}

// poison overwrites the buffers overwritable handed out, as a reader fills its
// blocks again, and forgets them.
func poison(bufs *[][]byte) {
	for _, b := range *bufs {
		for i := range b {
			b[i] = 0xff
		}
	}
	*bufs = (*bufs)[:0]
}

// TestOwnTextKeepsIncidents feeds the engine every corpus scenario, its
// logs merged, with the records' text in buffers that are overwritten
// after each call of OwnText, as reused blocks of input are; the
// incidents must be those of records that own their text. Without the
// copies OwnText makes, an incident's last record would read as garbage.
func TestOwnTextKeepsIncidents(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("../testdata/corpus/*")
	scenarios := 0
	for _, dir := range dirs {
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		if len(logs) == 0 {
			continue
		}
		scenarios++
		var ins []timeline.Input
		for _, l := range logs {
			ins = append(ins, timeline.Input{Name: l, Open: func() (io.ReadCloser, error) { return source.Open(l, nil) }, Options: parser.Options{File: l, Location: time.UTC}})
		}
		run := func(reuse bool) []*Incident {
			var out []*Incident
			eng := New(Config{Final: func(in *Incident) { out = append(out, in) }})
			var bufs [][]byte
			n := 0
			timeline.Merge(context.Background(), ins, func(e *parser.Entry) {
				en := *e
				if reuse {
					var buf []byte
					en, buf = overwritable(en)
					bufs = append(bufs, buf)
				}
				if m, ok := set.Match(&en); ok {
					eng.Add(&en, &m)
				} else {
					eng.Add(&en, nil)
				}
				if n++; reuse && n%7 == 0 {
					eng.OwnText()
					poison(&bufs)
				}
			})
			eng.Flush()
			return out
		}
		want, got := run(false), run(true)
		if len(want) == 0 {
			t.Fatalf("%s: no incidents", dir)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: incidents (-own text +text reused after OwnText):\n%s", filepath.Base(dir), diff)
		}
	}
	if scenarios < 10 {
		t.Fatalf("%d corpus scenarios", scenarios)
	}
}

// An incident that takes over the later last record of one merged into
// it must have that record's text copied by OwnText too: the one merged
// away is no longer looked at.
func TestOwnTextAfterMerge(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	eng := New(Config{})
	var bufs [][]byte
	add := func(line string) { addLent(t, eng, set, &bufs, line) }
	refused := "connect() failed (111: Connection refused) while connecting to upstream"
	add(nginxLine(t0, 1, refused, `, upstream: "http://10.0.0.5:8080/p"`))
	add(nginxLine(t0.Add(time.Second), 2, refused, `, upstream: "http://10.0.0.6:8080/p"`))
	// Both last records are first records of their rule, kept as
	// samples: copies. The next of 10.0.0.6:8080 is its own text.
	eng.OwnText()
	poison(&bufs)
	add(nginxLine(t0.Add(2*time.Second), 3, refused, `, upstream: "http://10.0.0.6:8080/p"`))
	var dst, src *state
	for _, st := range eng.open {
		switch st.in.Subject {
		case "10.0.0.5:8080":
			dst = st
		case "10.0.0.6:8080":
			src = st
		}
	}
	if dst == nil || src == nil || !dst.lastOwned || src.lastOwned {
		t.Fatalf("incidents %v", eng.open)
	}
	wantLast := strings.Clone(src.last.Text)
	eng.merge(dst, src)
	eng.OwnText()
	poison(&bufs)
	if dst.last.Text != wantLast {
		t.Errorf("last record after the merge = %q, want %q", dst.last.Text, wantLast)
	}
}

// Between two calls of OwnText the engine lists only about the open
// incidents: those that closed own their text and leave the list, which
// would otherwise grow with every incident and keep finished ones from
// the collector.
func TestOwnTextListStaysSmall(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	finished := 0
	eng := New(Config{Gap: 10 * time.Second, Recur: 20 * time.Second, Final: func(*Incident) { finished++ }})
	eng.OwnText()
	refused := "connect() failed (111: Connection refused) while connecting to upstream"
	most := 0
	for i := range 3000 {
		at := t0.Add(time.Duration(i) * time.Minute)
		upstream := fmt.Sprintf(`, upstream: "http://10.0.%d.%d:8080/p"`, i/250, i%250)
		// Two records: the first of a rule is kept as a sample, a copy;
		// the second is the record's own text.
		for j := range 2 {
			parser.Scan(strings.NewReader(nginxLine(at, 2*i+j, refused, upstream)), parser.Options{File: "error.log", Location: time.UTC}, func(e *parser.Entry) {
				m, ok := set.Match(e)
				if !ok {
					t.Fatalf("no rule matches %q", e.Raw)
				}
				eng.Add(e, &m)
			})
		}
		most = max(most, len(eng.unowned))
	}
	eng.Flush()
	if finished != 3000 {
		t.Fatalf("%d incidents, want 3000", finished)
	}
	if most > 200 {
		t.Errorf("%d incidents listed for OwnText at most, with one or two open at a time", most)
	}
}
