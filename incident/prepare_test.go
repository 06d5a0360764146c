package incident

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// More subjects than the cache of found incidents has slots, logging in
// turns, twice a round, with quiet gaps between the rounds, so that
// incidents are found in the cache, share their slot, close and reopen:
// every subject still gets one incident with all of its records, and
// after every record the cache holds only incidents that are open under
// their key.
func TestFoundCacheManySubjects(t *testing.T) {
	const subjects, rounds, turns = 3 * len(Engine{}.found), 3, 2
	var b strings.Builder
	conn := 0
	for round := range rounds {
		// 40 s between the rounds: longer than the gap, within Recur.
		at := t0.Add(time.Duration(round) * 40 * time.Second)
		for range turns {
			for s := range subjects {
				conn++
				b.WriteString(nginxLine(at, conn, "connect() failed (111: Connection refused) while connecting to upstream",
					fmt.Sprintf(`, upstream: "http://10.0.%d.%d:8080/p"`, s/256, s%256)))
			}
		}
	}
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	var got []*Incident
	eng := New(Config{Final: func(in *Incident) { got = append(got, in) }})
	_, err = parser.Scan(strings.NewReader(b.String()), parser.Options{File: "error.log", Location: time.UTC}, func(e *parser.Entry) {
		m, ok := set.Match(e)
		if !ok {
			t.Fatalf("line %d: no rule matched %q", e.Line, e.Raw)
		}
		eng.Add(e, &m)
		checkOpen(t, eng)
	})
	if err != nil {
		t.Fatal(err)
	}
	eng.Flush()
	counts := map[string]int64{}
	for _, in := range got {
		counts[in.Subject] += in.Count
	}
	want := map[string]int64{}
	for s := range subjects {
		want[fmt.Sprintf("10.0.%d.%d:8080", s/256, s%256)] = rounds * turns
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("records per subject (-want +got):\n%s", diff)
	}
	if len(got) != subjects {
		t.Errorf("%d incidents, want %d (one per subject, reopened)", len(got), subjects)
	}
}

// checkOpen checks what the engine knows of its open incidents: inOpen
// is set exactly on those in open, under their key, and a slot of the
// cache of found incidents holds nil or one of them, in its own slot.
func checkOpen(t *testing.T, e *Engine) {
	t.Helper()
	for k, st := range e.open {
		if st.key != k || !st.inOpen {
			t.Fatalf("open[%v] holds %v, inOpen %v", k, st.key, st.inOpen)
		}
	}
	for _, st := range e.recent {
		if st.inOpen {
			t.Fatalf("closed incident %v is marked open", st.key)
		}
	}
	for i, st := range e.found {
		if st != nil && (e.open[st.key] != st || int(st.slot) != i) {
			t.Fatalf("found[%d] holds %v, which is not open there", i, st.key)
		}
	}
}

// Prepare reads only its record and match: run on several goroutines at
// once (with -race), it gives what it gives on one.
func TestPrepareConcurrent(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	text := nginxLine(t0, 1, "connect() failed (111: Connection refused) while connecting to upstream", `, upstream: "http://10.0.0.5:8080/p"`) +
		nginxLine(t0, 2, `open() "/srv/www/x.png" failed (2: No such file or directory)`, "") +
		nginxLine(t0, 3, "frobnicator exploded", "") +
		strings.Replace(nginxLine(t0, 4, "connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream", `, upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:"`), "client: 192.0.2.", "client: 2001:db8::", 1)
	type record struct {
		e parser.Entry
		m *rules.Match
	}
	var recs []record
	if _, err := parser.Scan(strings.NewReader(text), parser.Options{Location: time.UTC}, func(e *parser.Entry) {
		r := record{e: *e}
		if m, ok := set.Match(e); ok {
			r.m = &m
		}
		recs = append(recs, r)
	}); err != nil {
		t.Fatal(err)
	}
	want := make([]Prepared, len(recs))
	for i := range recs {
		Prepare(&recs[i].e, recs[i].m, &want[i])
	}
	got := make([][]Prepared, 4)
	var wg sync.WaitGroup
	for g := range got {
		got[g] = make([]Prepared, len(recs))
		wg.Go(func() {
			for range 50 {
				for i := range recs {
					Prepare(&recs[i].e, recs[i].m, &got[g][i])
				}
			}
		})
	}
	wg.Wait()
	for g := range got {
		if diff := cmp.Diff(want, got[g], cmp.AllowUnexported(Prepared{}, instant{})); diff != "" {
			t.Errorf("goroutine %d (-want +got):\n%s", g, diff)
		}
	}
}

func TestIsGroupName(t *testing.T) {
	for s, want := range map[string]bool{
		"php_backend":                   true,
		"app.internal":                  true,
		"":                              true,
		"127.0.0.1:9000":                false,
		"unix:/run/php/php8.2-fpm.sock": false,
		"/run/php/php8.2-fpm.sock":      false,
		"[::1]":                         false,
		"backend:8080":                  false,
	} {
		if got := isGroupName(s); got != want {
			t.Errorf("isGroupName(%q) = %t, want %t", s, got, want)
		}
	}
}

// A record is about a FastCGI backend when nginx's upstream is fastcgi://
// or Apache's module or message says so; an nginx message that only
// quotes "FCGI:" is not.
func TestPrepareFastCGI(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		line string
		want bool
	}{
		{nginxLine(t0, 1, "connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream", `, upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:"`), true},
		{nginxLine(t0, 2, "upstream prematurely closed connection while reading response header from upstream", `, upstream: "http://10.0.0.5:8080/p"`), false},
		{nginxLine(t0, 3, `open() "/srv/www/FCGI:/x.png" failed (2: No such file or directory)`, ""), false},
		{"[Sat Nov 21 19:46:48.324053 2026] [proxy:error] [pid 15606:tid 15636] (2)No such file or directory: AH02454: FCGI: attempt to connect to Unix domain socket /run/php/php8.2-fpm.sock (localhost:8000) failed\n", true},
		{"[Sat Nov 21 19:46:48.324053 2026] [proxy:error] [pid 15606:tid 15636] (2)No such file or directory: AH02454: http: attempt to connect to Unix domain socket /run/app.sock (localhost:80) failed\n", false},
		{"[Sat Nov 21 19:46:49.000001 2026] [proxy_fcgi:error] [pid 15606:tid 15636] [client 192.0.2.7:50000] AH01067: Failed to read FastCGI header\n", true},
	} {
		es := scanAll(t, c.line)
		if len(es) != 1 {
			t.Fatalf("%q: %d records", c.line, len(es))
		}
		m, ok := set.Match(&es[0])
		if !ok {
			t.Fatalf("no rule matched %q", es[0].Raw)
		}
		var p Prepared
		Prepare(&es[0], &m, &p)
		if p.fastcgi != c.want {
			t.Errorf("%s: fastcgi %v, want %v", m.Rule.ID, p.fastcgi, c.want)
		}
	}
}
