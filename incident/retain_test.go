package incident

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// overwritable returns e with every string that is part of its record
// moved into buf, a copy of the record's text the test can overwrite:
// what records read by parser.Scan look like, strings in a shared block.
func overwritable(e parser.Entry) (parser.Entry, []byte) {
	buf := []byte(e.Raw)
	if len(buf) == 0 {
		return e, buf
	}
	raw := uintptr(unsafe.Pointer(unsafe.StringData(e.Raw)))
	// Every string field, so that one added to Entry is moved too.
	v := reflect.ValueOf(&e).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.String || f.Len() == 0 {
			continue
		}
		s := f.String()
		off := uintptr(unsafe.Pointer(unsafe.StringData(s))) - raw
		if off < uintptr(len(buf)) && off+uintptr(len(s)) <= uintptr(len(buf)) {
			f.SetString(unsafe.String(&buf[off], len(s)))
		}
	}
	return e, buf
}

// TestEngineKeepsCopies feeds the engine records whose text the test
// overwrites once the incidents have closed: the incidents and templates
// must come out as from records that own their text. A table, sample or
// subject that kept a record's text instead of a copy would show the
// overwritten bytes (and, with parser.Scan, keep a block of input alive).
func TestEngineKeepsCopies(t *testing.T) {
	var b strings.Builder
	for i := range 400 {
		at := t0.Add(time.Duration(i) * 200 * time.Millisecond)
		switch i % 4 {
		case 0:
			line := nginxLine(at, i, "upstream timed out (110: Connection timed out) while reading response header from upstream", fmt.Sprintf(`, upstream: "http://10.0.%d.5:8080/p"`, i%3))
			if i%8 == 0 {
				line = strings.Replace(line, "client: 192.0.2.", "client: 2001:db8::", 1)
			}
			b.WriteString(line)
		case 1:
			b.WriteString(nginxLine(at, i, fmt.Sprintf(`open() "/srv/www/%d.png" failed (2: No such file or directory)`, i), ""))
		case 2:
			b.WriteString(nginxLine(at, i, fmt.Sprintf(`frobnicator "/srv/x%d" exploded at 0x%x`, i, i), ""))
		case 3:
			fmt.Fprintf(&b, "[%s] WARNING: [pool www%d] server reached pm.max_children setting (5), consider raising it\n", at.Format("02-Jan-2006 15:04:05"), i%2)
		}
	}
	entries := scanAll(t, b.String())
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(entries []parser.Entry, scribble func(*Engine)) ([]*Incident, []Template) {
		var out []*Incident
		eng := New(Config{Final: func(in *Incident) { out = append(out, in) }})
		for i := range entries {
			e := &entries[i]
			if m, ok := set.Match(e); ok {
				eng.Add(e, &m)
			} else {
				eng.Add(e, nil)
			}
		}
		// Closed, not yet final: the last records are copied now.
		eng.Advance(eng.now.Add(DefaultGap + time.Second))
		scribble(eng)
		eng.Flush()
		// Incidents that close at the same time come in no set order.
		slices.SortFunc(out, func(a, b *Incident) int { return strings.Compare(a.ID, b.ID) })
		return out, eng.Unknown()
	}
	wantIn, wantTmpl := feed(entries, func(*Engine) {})

	moved := make([]parser.Entry, len(entries))
	bufs := make([][]byte, len(entries))
	for i, e := range entries {
		moved[i], bufs[i] = overwritable(e)
	}
	gotIn, gotTmpl := feed(moved, func(eng *Engine) {
		// Strings that do not show in the output (map keys, the last
		// vhost) must be copies too.
		for _, s := range engineStrings(eng) {
			for _, buf := range bufs {
				if pointsInto(s, buf) {
					t.Errorf("the engine keeps %q, part of a record's text", s)
				}
			}
		}
		for _, buf := range bufs {
			for i := range buf {
				buf[i] = '#'
			}
		}
	})
	if len(wantIn) < 3 || len(wantTmpl) == 0 {
		t.Fatalf("%d incidents and %d templates; the test needs several of both", len(wantIn), len(wantTmpl))
	}
	if diff := cmp.Diff(wantIn, gotIn); diff != "" {
		t.Errorf("incidents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantTmpl, gotTmpl); diff != "" {
		t.Errorf("templates (-want +got):\n%s", diff)
	}
}

// engineStrings returns the strings the engine's incidents and templates
// hold.
func engineStrings(e *Engine) []string {
	var out []string
	states := e.recent
	for _, st := range e.open {
		states = append(states, st)
	}
	for _, st := range states {
		out = append(out, st.key.subject, st.in.Subject, st.lastVHost, st.pendingFor, st.last.Text)
		out = append(out, st.in.Pools...)
		for _, s := range st.in.Samples {
			out = append(out, s.Text)
		}
		for _, top := range []*topN{&st.vhosts, &st.requests, &st.scripts} {
			for _, e := range top.entries {
				out = append(out, e.value)
			}
		}
		for c := range st.clients.other {
			out = append(out, c)
		}
	}
	for k, v := range e.pools {
		out = append(out, k, v)
	}
	for _, tm := range e.unknown.List() {
		out = append(out, tm.Sample, tm.Pattern)
	}
	return out
}

func pointsInto(s string, buf []byte) bool {
	if len(s) == 0 || len(buf) == 0 {
		return false
	}
	p, b := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(&buf[0]))
	return p >= b && p < b+uintptr(len(buf))
}

func scanAll(t *testing.T, text string) []parser.Entry {
	t.Helper()
	var out []parser.Entry
	_, err := parser.Scan(strings.NewReader(text), parser.Options{File: "test.log", Location: time.UTC}, func(e *parser.Entry) {
		out = append(out, *e)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// clientSet counts distinct address strings, whether it keeps them as
// IPv4 bytes or as strings.
func TestClientSetCountsDistinctStrings(t *testing.T) {
	tests := [][]string{
		{"192.0.2.1", "192.0.2.1", "192.0.2.2"},
		{"192.0.2.1", "::ffff:192.0.2.1", "192.0.2.01", "0192.0.2.1"},
		{"2001:db8::1", "2001:db8:0::1", "2001:DB8::1", "[2001:db8::1]"},
		{"", "unix:", "unix:", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4%eth0"},
	}
	for _, clients := range tests {
		t.Run(strings.Join(clients, ","), func(t *testing.T) {
			distinct := map[string]bool{}
			var set clientSet
			for _, c := range clients {
				distinct[c] = true
				set.add(c)
			}
			if set.len() != len(distinct) {
				t.Errorf("counted %d clients, want %d", set.len(), len(distinct))
			}
			// Merging into a set that has some of them counts the union.
			var other clientSet
			other.add(clients[0])
			other.add("198.51.100.7")
			other.merge(&set)
			if other.len() != len(distinct)+1 {
				t.Errorf("merged: %d clients, want %d", other.len(), len(distinct)+1)
			}
		})
	}
}
