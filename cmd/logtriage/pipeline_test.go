package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

// TestSortIncidents: worst first, then earliest, then by id, whatever
// order the engine finished them in.
func TestSortIncidents(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 19, 57, 15, 0, time.UTC)
	mk := func(id string, sev rules.Severity, start time.Time) *incident.Incident {
		return &incident.Incident{ID: id, Severity: sev, Start: start}
	}
	ins := []*incident.Incident{
		mk("c", rules.SeverityError, t0),
		mk("b", rules.SeverityError, t0),
		mk("late", rules.SeverityCritical, t0.Add(time.Minute)),
		mk("a", rules.SeverityError, t0),
		mk("early", rules.SeverityCritical, t0),
		mk("notice", rules.SeverityNotice, t0.Add(-time.Hour)),
	}
	sortIncidents(ins)
	var got []string
	for _, in := range ins {
		got = append(got, in.ID)
	}
	want := []string{"early", "late", "a", "b", "c", "notice"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
