package report

import (
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
	Incidents    []*incident.Incident
	// Hidden counts incidents below --min-severity, left out of Incidents.
	Hidden int
	// All holds every incident, hidden ones included (for --fail-on).
	All      []*incident.Incident
	Coverage *rules.Coverage
	Unknown  []incident.Template // unmatched error-level shapes, commonest first
	// Rate counts the problem records of the window over time, for the
	// HTML timeline; nil when the caller did not collect it.
	Rate *Rate
}
