package incident

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/rules"
)

// A site the vhost table has no room for is still the incident's last
// vhost after its record's text is gone (OwnText copies it): nginx "no
// live upstreams" for that site finds the incident by it.
func TestLastVHostBeyondTableOwned(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	var got []*Incident
	eng := New(Config{Final: func(in *Incident) { got = append(got, in) }})
	var bufs [][]byte
	add := func(line string) { addLent(t, eng, set, &bufs, line) }
	line := func(at time.Time, conn int, site, msg, upstream string) string {
		return fmt.Sprintf("%s [error] 10#10: *%d %s, client: 192.0.2.1, server: %s, request: \"GET / HTTP/1.1\", upstream: \"%s\", host: \"%s\"\n",
			at.Format("2006/01/02 15:04:05"), conn, msg, site, upstream, site)
	}
	const sites = 80 // more than the table keeps
	for i := range sites {
		msg := "connect() failed (111: Connection refused) while connecting to upstream"
		if i == sites-1 {
			// The first record of a rule, kept as a sample, a copy: only
			// its site is the record's own text.
			msg = "upstream timed out (110: Connection timed out) while reading response header from upstream"
		}
		add(line(t0, i, fmt.Sprintf("site%d.test", i), msg, "http://10.0.0.5:8080/"))
		eng.OwnText()
		poison(&bufs)
	}
	add(line(t0.Add(time.Second), sites, fmt.Sprintf("site%d.test", sites-1), "no live upstreams while connecting to upstream", "http://api_backend/"))
	eng.Flush()
	if len(got) != 1 {
		t.Fatalf("%d incidents, want 1: no live upstreams did not find its site's incident", len(got))
	}
	want := map[string]int64{"nginx.upstream.connect.econnrefused": sites - 1, "nginx.upstream.timeout.read_header": 1, "nginx.upstream.no_live": 1}
	if diff := cmp.Diff(want, got[0].CountsByRule); diff != "" {
		t.Errorf("counts by rule (-want +got):\n%s", diff)
	}
}

// Rules reloaded while an incident is open (watch on SIGHUP) are other
// values with the same ids: their records are counted under the id, as
// one rule, in runs and interleaved, and the root cause is the rule as
// last loaded.
func TestRuleReloadCountsByID(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	entries := scanAll(t, nginxLine(t0, 1, "upstream timed out (110: Connection timed out) while reading response header from upstream", `, upstream: "http://10.0.0.5:8080/p"`)+
		nginxLine(t0, 2, "connect() failed (111: Connection refused) while connecting to upstream", `, upstream: "http://10.0.0.5:8080/p"`))
	var matches [2][2]rules.Match // record, load
	for i := range entries {
		m, ok := set.Match(&entries[i])
		if !ok {
			t.Fatalf("no rule matches %q", entries[i].Raw)
		}
		reloaded := *m.Rule
		reloaded.Title = "reloaded: " + m.Rule.Title
		matches[i] = [2]rules.Match{m, m}
		matches[i][1].Rule = &reloaded
	}
	var got []*Incident
	eng := New(Config{Final: func(in *Incident) { got = append(got, in) }})
	want := map[string]int64{}
	// A run of the first rule as loaded first, then the two rules in
	// turn, as loaded first and again.
	for _, step := range []struct{ rec, load, n int }{{0, 0, 3}, {0, 1, 2}, {1, 0, 1}, {0, 1, 1}, {1, 1, 4}, {0, 0, 1}, {0, 1, 2}} {
		for range step.n {
			m := matches[step.rec][step.load]
			eng.Add(&entries[step.rec], &m)
			want[m.Rule.ID]++
		}
	}
	eng.Flush()
	if len(got) != 1 {
		t.Fatalf("%d incidents, want 1", len(got))
	}
	if diff := cmp.Diff(want, got[0].CountsByRule); diff != "" {
		t.Errorf("counts by rule (-want +got):\n%s", diff)
	}
	if rc := got[0].RootCause; rc.RuleID == "" || rc.Count != want[rc.RuleID] || !strings.HasPrefix(rc.Title, "reloaded: ") {
		t.Errorf("root cause %+v, counts %v; want the rule as last loaded", rc, want)
	}
}

// Records from before 1970 (a clock that was never set) move the
// engine's clock as any others: their incidents close and are final.
func TestRecordsBefore1970(t *testing.T) {
	at := time.Date(1969, 6, 1, 12, 0, 0, 0, time.UTC)
	msg := "connect() failed (111: Connection refused) while connecting to upstream"
	ctx := `, upstream: "http://10.0.0.5:8080/p"`
	text := nginxLine(at, 1, msg, ctx) + nginxLine(at.Add(10*time.Second), 2, msg, ctx) + nginxLine(at.Add(20*time.Minute), 3, msg, ctx)
	got, _ := run(t, text, Config{})
	var counts []int64
	for _, in := range got {
		counts = append(counts, in.Count)
	}
	if diff := cmp.Diff([]int64{2, 1}, counts); diff != "" {
		t.Errorf("records per incident (-want +got):\n%s", diff)
	}
}
