package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
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
	// A window of incidents at a time is encoded on every core, then
	// written in order.
	window := make([][]byte, min(jsonWindow, all.Len()))
	ins := make([]*incident.Incident, 0, len(window))
	written := 0
	encode := func() error {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(runtime.GOMAXPROCS(0), len(ins)) {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < len(ins); i = int(next.Add(1)) - 1 {
					window[i] = appendIncidentJSON(window[i][:0], ins[i], "    ")
				}
			})
		}
		wg.Wait()
		for _, b := range window[:len(ins)] {
			sep := ",\n    "
			if written == 0 {
				sep = "\n    "
			}
			if _, err := io.WriteString(w, sep); err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
			written++
		}
		clear(ins)
		ins = ins[:0]
		return nil
	}
	for _, in := range all.All() {
		ins = append(ins, in)
		if len(ins) == len(window) {
			if err := encode(); err != nil {
				return err
			}
		}
	}
	if err := all.Err(); err != nil {
		return err
	}
	if err := encode(); err != nil {
		return err
	}
	// doc[i:] is "]," and the rest: close the list on its own line.
	if _, err := io.WriteString(w, "\n  "); err != nil {
		return err
	}
	_, err = w.Write(append(doc[i:], '\n'))
	return err
}

// jsonWindow is how many incidents JSON encodes before it writes them:
// enough for every core to have several, few enough to hold little.
const jsonWindow = 64

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
