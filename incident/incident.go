// Package incident groups rule matches into incidents: one problem, one
// subject, a start and an end, across the nginx, Apache and php-fpm logs
// of a host. It names the root cause (the deepest evidence) and carries
// what to change and what to check.
//
// The Engine consumes matches in time order and keeps only open and
// recently closed incidents in memory; an incident's own memory is bounded
// (top-N tables, a fixed number of samples), so memory never grows with
// the input.
package incident

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/logtriage/logtriage/rules"
)

// Incident is one problem on one subject over one window.
type Incident struct {
	ID          string // stable for the same first evidence: start time and key
	Title       string
	Group       string // the problem family, e.g. "backend" or a rule id
	Subject     string // upstream peer, unix socket, pool, vhost ...
	SubjectKind string
	Severity    rules.Severity
	Start, End  time.Time // first and last evidence
	Count       int64     // matched records
	// CountsByRule counts the records per rule id.
	CountsByRule map[string]int64
	// PeakPerMinute is the most records in one calendar minute.
	PeakPerMinute int64
	RootCause     RootCause
	Remediation   []string
	Diagnostics   []string
	// HTTPStatus lists what clients got, from the rules' http_status.
	HTTPStatus []int
	VHosts     []Count // most affected vhosts first (nginx server:, Host)
	Requests   []Count // most frequent request lines
	Scripts    []Count // php-fpm scripts named by slow/terminated requests
	Pools      []string
	Clients    int64 // distinct client addresses (saturates at MaxClients)
	Sources    []string
	Samples    []Sample
	// DeployBlip is set when the errors sit inside a restart or reload
	// window that ended with the service back (php-fpm "ready to handle
	// connections", Apache "resuming normal operations", an nginx reload):
	// a deploy, not an outage. Its severity is lowered to warning.
	DeployBlip bool
	// Open is true while the incident may still grow (watch); analyze
	// reports every incident closed.
	Open bool
}

// RootCause is the deepest evidence in an incident: the rule whose
// records explain the others (php-fpm out of children explains nginx
// "Resource temporarily unavailable" and timeouts).
type RootCause struct {
	RuleID string
	Title  string
	Cause  string
	Count  int64
}

// Count is a value and how often it was seen.
type Count struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// Sample is one record kept as evidence: the first and the last of the
// incident, and the first of each rule.
type Sample struct {
	Time   time.Time
	File   string
	Line   int
	RuleID string
	Text   string // the record as written (may span lines); untrusted
}

// MaxClients bounds the distinct-client set of an incident.
const MaxClients = 10000

// RuleIDs returns the incident's rules, most frequent first.
func (in *Incident) RuleIDs() []string {
	ids := make([]string, 0, len(in.CountsByRule))
	for id := range in.CountsByRule {
		ids = append(ids, id)
	}
	// Ids are distinct: any sort gives this order.
	slices.SortFunc(ids, func(a, b string) int {
		if c := cmp.Compare(in.CountsByRule[b], in.CountsByRule[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return ids
}

// Duration is End minus Start.
func (in *Incident) Duration() time.Duration { return in.End.Sub(in.Start) }
