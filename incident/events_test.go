package incident

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// feeder parses lines one at a time into an engine, so a test can move
// the clock between them like watch does.
type feeder struct {
	t      *testing.T
	set    *rules.Set
	eng    *Engine
	events []Event
}

func newFeeder(t *testing.T) *feeder {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	f := &feeder{t: t, set: set}
	f.eng = New(Config{OnEvent: func(ev Event) { f.events = append(f.events, ev) }})
	return f
}

func (f *feeder) feed(text string) {
	f.t.Helper()
	_, err := parser.Scan(strings.NewReader(text), parser.Options{File: "x.log", Location: time.UTC}, func(e *parser.Entry) {
		if m, ok := f.set.Match(e); ok {
			f.eng.Add(e, &m)
		}
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *feeder) kinds() string {
	var ks []string
	for _, ev := range f.events {
		k := ev.Kind
		if len(ev.Reasons) > 0 {
			k += "(" + strings.Join(ev.Reasons, "; ") + ")"
		}
		ks = append(ks, k)
	}
	return strings.Join(ks, " ")
}

func TestEventsLifecycle(t *testing.T) {
	f := newFeeder(t)
	sock := `, upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:"`
	eagain := "connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream"
	f.feed(nginxLine(t0, 1, eagain, sock))
	if got := f.kinds(); got != "opened" {
		t.Fatalf("after the first critical record: %q", got)
	}
	id := f.events[0].Incident.ID
	// More of the same in the same minute: the rate doubles (1 → 4).
	for i := 2; i <= 4; i++ {
		f.feed(nginxLine(t0.Add(time.Duration(i)*time.Second), i, eagain, sock))
	}
	// php-fpm says why: the root cause is found.
	f.feed("[21-Nov-2026 10:00:05] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it\n")
	want := "opened updated(rate doubled: 4/min) updated(root cause: fpm.pool.max_children_reached)"
	if got := f.kinds(); got != want {
		t.Fatalf("events %q, want %q...", got, want)
	}
	last := f.events[len(f.events)-1].Incident
	if last.ID != id || last.RootCause.RuleID != "fpm.pool.max_children_reached" || !last.Open || last.Count != 5 {
		t.Errorf("snapshot: id %s root %s open %v count %d", last.ID, last.RootCause.RuleID, last.Open, last.Count)
	}
	// A clock, not the next record, resolves it.
	n := len(f.events)
	f.eng.Advance(t0.Add(10 * time.Second))
	if len(f.events) != n {
		t.Fatalf("resolved before the gap: %q", f.kinds())
	}
	f.eng.Advance(t0.Add(40 * time.Second))
	if ev := f.events[len(f.events)-1]; ev.Kind != Resolved || ev.Incident.ID != id || ev.Incident.Open {
		t.Fatalf("after the gap: %q", f.kinds())
	}
	// The symptom comes back within the recurrence window: reopened, same id.
	f.feed(nginxLine(t0.Add(2*time.Minute), 9, eagain, sock))
	if ev := f.events[len(f.events)-1]; ev.Kind != Opened || ev.Incident.ID != id || !strings.Contains(strings.Join(ev.Reasons, ""), "reopened") {
		t.Fatalf("recurrence: %q", f.kinds())
	}
}

// A single 404 pages nobody; ten do.
func TestEventsThreshold(t *testing.T) {
	f := newFeeder(t)
	for i := range 10 {
		f.feed(nginxLine(t0.Add(time.Duration(i)*time.Second), i+1, fmt.Sprintf(`open() "/srv/www/x%d.png" failed (2: No such file or directory)`, i), ""))
		if i < 9 && len(f.events) != 0 {
			t.Fatalf("announced after %d notices: %q", i+1, f.kinds())
		}
	}
	if f.kinds() != "opened" || f.events[0].Incident.Severity != rules.SeverityNotice {
		t.Fatalf("after 10 notices: %q", f.kinds())
	}
}
