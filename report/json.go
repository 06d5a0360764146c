package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

// AnalysisJSON is the document `analyze --format json` and
// `digest --format json` write. List fields are never null.
type AnalysisJSON struct {
	Schema          string               `json:"schema"`
	Host            string               `json:"host"`
	Generated       string               `json:"generated,omitempty"`
	Since           string               `json:"since,omitempty"`
	Until           string               `json:"until,omitempty"`
	Inputs          []string             `json:"inputs"`
	Incidents       []IncidentJSON       `json:"incidents"`
	HiddenIncidents int                  `json:"hidden_incidents"`
	Coverage        AnalysisCoverageJSON `json:"coverage"`
}

// AnalysisCoverageJSON is the coverage section of an analysis: the
// CoverageJSON counts plus the message shapes no rule knows.
type AnalysisCoverageJSON struct {
	CoverageJSON
	Unknown []TemplateJSON `json:"unknown"`
}

// TemplateJSON is an unknown message shape.
type TemplateJSON struct {
	Server  string `json:"server"`
	Level   string `json:"level"`
	Pattern string `json:"pattern"`
	Count   int64  `json:"count"`
	First   string `json:"first,omitempty"`
	Last    string `json:"last,omitempty"`
	Sample  string `json:"sample"`
}

// IncidentJSON is an incident as written in JSON documents and, later,
// in `watch --format jsonl` events. List fields are never null.
type IncidentJSON struct {
	ID              string           `json:"id"`
	RuleIDs         []string         `json:"rule_ids"`
	Severity        string           `json:"severity"`
	Title           string           `json:"title"`
	Subject         string           `json:"subject"`
	SubjectKind     string           `json:"subject_kind"`
	Group           string           `json:"group"`
	Start           string           `json:"start"`
	End             string           `json:"end"`
	DurationSeconds int64            `json:"duration_seconds"`
	Count           int64            `json:"count"`
	CountsByRule    map[string]int64 `json:"counts_by_rule"`
	PeakPerMinute   int64            `json:"peak_per_minute"`
	Sources         []string         `json:"sources"`
	RootCause       RootCauseJSON    `json:"root_cause"`
	Remediation     []string         `json:"remediation"`
	Diagnostics     []string         `json:"diagnostics"`
	HTTPStatus      []int            `json:"http_status"`
	VHosts          []incident.Count `json:"vhosts"`
	Requests        []incident.Count `json:"requests"`
	Scripts         []incident.Count `json:"scripts"`
	Pools           []string         `json:"pools"`
	Clients         int64            `json:"clients"`
	DeployBlip      bool             `json:"deploy_blip"`
	Samples         []SampleJSON     `json:"samples"`
}

// RootCauseJSON is the rule that explains an incident.
type RootCauseJSON struct {
	RuleID string `json:"rule_id"`
	Title  string `json:"title"`
	Cause  string `json:"cause"`
	Count  int64  `json:"count"`
}

// SampleJSON is one record kept as evidence.
type SampleJSON struct {
	Time   string `json:"time"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	RuleID string `json:"rule_id"`
	Text   string `json:"text"`
}

// NewIncidentJSON converts an incident for JSON output. It copies every
// slice and map, so the result stays valid while the incident grows.
func NewIncidentJSON(in *incident.Incident) IncidentJSON {
	j := IncidentJSON{
		ID: in.ID, RuleIDs: in.RuleIDs(), Severity: in.Severity.String(), Title: in.Title,
		Subject: in.Subject, SubjectKind: in.SubjectKind, Group: in.Group,
		Start: jsonTime(in.Start), End: jsonTime(in.End),
		DurationSeconds: int64(math.Round(in.Duration().Seconds())),
		Count:           in.Count, CountsByRule: make(map[string]int64, len(in.CountsByRule)),
		PeakPerMinute: in.PeakPerMinute, Sources: strs(in.Sources),
		RootCause: RootCauseJSON{
			RuleID: in.RootCause.RuleID, Title: in.RootCause.Title,
			Cause: in.RootCause.Cause, Count: in.RootCause.Count,
		},
		Remediation: strs(in.Remediation), Diagnostics: strs(in.Diagnostics),
		HTTPStatus: append([]int{}, in.HTTPStatus...),
		VHosts:     counts(in.VHosts), Requests: counts(in.Requests), Scripts: counts(in.Scripts),
		Pools: strs(in.Pools), Clients: in.Clients, DeployBlip: in.DeployBlip,
		Samples: make([]SampleJSON, 0, len(in.Samples)),
	}
	for id, n := range in.CountsByRule {
		j.CountsByRule[id] = n
	}
	for _, s := range in.Samples {
		j.Samples = append(j.Samples, SampleJSON{
			Time: jsonTime(s.Time), File: s.File, Line: s.Line, RuleID: s.RuleID, Text: s.Text,
		})
	}
	return j
}

// analysisHead converts all of an analysis but its incidents.
func analysisHead(a *Analysis) AnalysisJSON {
	if a == nil {
		a = &Analysis{}
	}
	cov := a.Coverage
	if cov == nil {
		cov = rules.NewCoverage(0)
	}
	j := AnalysisJSON{
		Schema: Schema, Host: a.Host,
		Generated: jsonTime(a.Generated), Since: jsonTime(a.Since), Until: jsonTime(a.Until),
		Inputs:          strs(a.Inputs),
		Incidents:       []IncidentJSON{},
		HiddenIncidents: a.Hidden,
		Coverage: AnalysisCoverageJSON{
			CoverageJSON: NewCoverageJSON(cov),
			Unknown:      make([]TemplateJSON, 0, len(a.Unknown)),
		},
	}
	for _, t := range a.Unknown {
		j.Coverage.Unknown = append(j.Coverage.Unknown, TemplateJSON{
			Server: t.Server, Level: t.Level, Pattern: t.Pattern, Count: t.Count,
			First: jsonTime(t.First), Last: jsonTime(t.Last), Sample: t.Sample,
		})
	}
	return j
}

// JSON writes an analysis as one indented logtriage/v1 document. Log
// text is left to encoding/json, which escapes control characters and,
// with HTML escaping on (the default, kept), "<", ">" and "&".
//
// The incidents are encoded a few at a time, on every core, and written
// straight to w: a report of thousands of incidents is never held whole
// in memory. The bytes are those of encoding the whole document at once.
func JSON(w io.Writer, a *Analysis) error {
	if a == nil {
		a = &Analysis{}
	}
	doc, err := json.MarshalIndent(analysisHead(a), "", "  ")
	if err != nil {
		return err
	}
	all := a.incidents()
	if all.Len() == 0 {
		_, err := w.Write(append(doc, '\n'))
		return err
	}
	// Encoded strings cannot hold a raw newline or quote, so this is the
	// incidents key and nothing else.
	key := []byte("\n  \"incidents\": [")
	i := bytes.Index(doc, key)
	if i < 0 {
		return errors.New("report: the document has no incidents list") // analysisHead always makes one
	}
	i += len(key)
	if _, err := w.Write(doc[:i]); err != nil {
		return err
	}
	if err := writeIncidentsJSON(w, all); err != nil {
		return err
	}
	// doc[i:] is "]," and the rest: close the list on its own line.
	if _, err := io.WriteString(w, "\n  "); err != nil {
		return err
	}
	_, err = w.Write(append(doc[i:], '\n'))
	return err
}

// jsonWindow is how many incidents JSON has in hand at once: read, being
// encoded, or encoded and waiting for their turn to be written. Enough
// for every core to have several, few enough to hold little.
const jsonWindow = 64

// writeIncidentsJSON writes the incidents of all, each encoded as an
// element of the incidents list, in order. They are encoded on every
// core while the next ones are read (a spool decodes what it spilled)
// and the ones before are written.
func writeIncidentsJSON(w io.Writer, all Incidents) error {
	type slot struct {
		in   *incident.Incident
		buf  []byte
		done chan struct{} // a token once buf holds in encoded
	}
	var ring [jsonWindow]slot
	for i := range ring {
		ring[i].done = make(chan struct{}, 1)
	}
	jobs := make(chan *slot, jsonWindow)
	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Go(func() {
			for s := range jobs {
				s.buf = appendIncidentJSON(s.buf[:0], s.in, "    ")
				s.done <- struct{}{}
			}
		})
	}
	read, written := 0, 0
	// write writes the oldest incident read, once it is encoded.
	write := func() error {
		s := &ring[written%jsonWindow]
		<-s.done
		s.in = nil
		sep := ",\n    "
		if written == 0 {
			sep = "\n    "
		}
		written++
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		_, err := w.Write(s.buf)
		return err
	}
	err := func() error {
		for _, in := range all.All() {
			if read-written == jsonWindow {
				if err := write(); err != nil {
					return err
				}
			}
			s := &ring[read%jsonWindow]
			s.in = in
			jobs <- s
			read++
		}
		if err := all.Err(); err != nil {
			return err
		}
		for written < read {
			if err := write(); err != nil {
				return err
			}
		}
		return nil
	}()
	close(jobs)
	workers.Wait()
	return err
}

// jsonTime is RFC 3339 with the fraction the log had, or "" for zero
// (omitted by omitempty).
func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func strs(s []string) []string { return append([]string{}, s...) }

func counts(c []incident.Count) []incident.Count { return append([]incident.Count{}, c...) }
