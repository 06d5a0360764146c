package report

import (
	"iter"
	"slices"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

// Analysis is everything `analyze` (and later `digest`) renders.
type Analysis struct {
	Host      string    // the machine the logs came from, for titles
	Generated time.Time // when the report was made
	// Since and Until are the requested window; zero when open.
	Since, Until time.Time
	Inputs       []string // inputs read, in order
	// Incidents are the ones to show, worst first; nil for none.
	Incidents Incidents
	// Hidden counts incidents below --min-severity, left out of Incidents.
	Hidden int
	// Worst is the highest severity of all incidents, hidden ones
	// included (for --fail-on).
	Worst    rules.Severity
	Coverage *rules.Coverage
	Unknown  []incident.Template // unmatched error-level shapes, commonest first
	// Rate counts the problem records of the window over time, for the
	// HTML timeline; nil when the caller did not collect it.
	Rate *Rate
}

// Incidents are the incidents a report lists, in order. There may be
// more than fit in memory (a spool.Spool keeps them in a file): writers
// go through them with All, as often as they need, and hold only what
// they write.
type Incidents interface {
	Len() int
	// All yields the incidents numbered from 0. Each call starts again.
	All() iter.Seq2[int, *incident.Incident]
	// Err says why the last All stopped before the end; nil if it did not.
	Err() error
}

// List is a slice of incidents as Incidents.
type List []*incident.Incident

func (l List) Len() int                                { return len(l) }
func (l List) All() iter.Seq2[int, *incident.Incident] { return slices.All(l) }
func (List) Err() error                                { return nil }

// incidents is a.Incidents, never nil.
func (a *Analysis) incidents() Incidents {
	if a.Incidents == nil {
		return List(nil)
	}
	return a.Incidents
}

// first is the first incident; nil when there is none.
func (a *Analysis) first() *incident.Incident {
	for _, in := range a.incidents().All() {
		return in
	}
	return nil
}
