package report

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

// sameAsMarshalIndent checks appendIncidentJSON against encoding/json:
// the incident converted by NewIncidentJSON, marshalled and indented.
func sameAsMarshalIndent(t *testing.T, in *incident.Incident) {
	t.Helper()
	for _, prefix := range []string{"", "    "} {
		want, err := json.MarshalIndent(NewIncidentJSON(in), prefix, "  ")
		if err != nil {
			t.Fatal(err)
		}
		if got := appendIncidentJSON(nil, in, prefix); string(got) != string(want) {
			t.Fatalf("appendIncidentJSON(prefix %q) =\n%s\nwant\n%s", prefix, got, want)
		}
	}
}

// TestIncidentJSONAsMarshalIndent: every incident of the tests' reports,
// and random ones whose text is made of the bytes and characters JSON
// escapes, are written as encoding/json writes them.
func TestIncidentJSONAsMarshalIndent(t *testing.T) {
	for _, a := range []*Analysis{testAnalysis(), hostileAnalysis(), hostileHTMLAnalysis()} {
		for _, in := range a.incidents().All() {
			sameAsMarshalIndent(t, in)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		sameAsMarshalIndent(t, randomIncident(r))
	}
}

// textPieces are the makings of random text: plain, escaped, HTML,
// JavaScript line ends, multi-byte, and bytes that are not UTF-8 (a lone
// lead byte, a cut U+2028).
var textPieces = []string{
	"", "a", "GET / HTTP/1.1", `"`, `\`, "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
	"<", ">", "&", "\u2028", "\u2029", "é", "😀", "\xff", "\xc3", "\xe2\x80", "{[,:]}",
}

func randomText(r *rand.Rand) string {
	s := ""
	for range r.IntN(6) {
		s += textPieces[r.IntN(len(textPieces))]
	}
	return s
}

func randomIncident(r *rand.Rand) *incident.Incident {
	at := func() time.Time {
		if r.IntN(5) == 0 {
			return time.Time{}
		}
		zone := time.UTC
		if r.IntN(2) == 0 {
			zone = time.FixedZone("", 3600*(r.IntN(25)-12))
		}
		return time.Unix(1_700_000_000+r.Int64N(1e7), r.Int64N(2)*r.Int64N(1e9)).In(zone)
	}
	texts := func() []string {
		if r.IntN(4) == 0 {
			return nil
		}
		var out []string
		for range r.IntN(4) {
			out = append(out, randomText(r))
		}
		return out
	}
	counts := func() []incident.Count {
		var out []incident.Count
		for range r.IntN(4) {
			out = append(out, incident.Count{Value: randomText(r), Count: r.Int64N(1e6)})
		}
		return out
	}
	in := &incident.Incident{
		ID: randomText(r), Title: randomText(r), Group: randomText(r), Subject: randomText(r),
		SubjectKind: randomText(r), Severity: rules.Severity(r.IntN(5)),
		Start: at(), Count: r.Int64N(1e9) - 5, PeakPerMinute: r.Int64N(1e4),
		RootCause:   incident.RootCause{RuleID: randomText(r), Title: randomText(r), Cause: randomText(r), Count: r.Int64N(100)},
		Remediation: texts(), Diagnostics: texts(), VHosts: counts(), Requests: counts(), Scripts: counts(),
		Pools: texts(), Clients: r.Int64N(5000), Sources: texts(), DeployBlip: r.IntN(2) == 0,
	}
	in.End = in.Start.Add(time.Duration(r.Int64N(1e13)))
	if r.IntN(4) > 0 {
		in.CountsByRule = map[string]int64{}
		for range r.IntN(4) {
			in.CountsByRule[randomText(r)] = r.Int64N(1e5)
		}
	}
	for range r.IntN(4) {
		in.HTTPStatus = append(in.HTTPStatus, 400+r.IntN(200))
	}
	for range r.IntN(3) {
		in.Samples = append(in.Samples, incident.Sample{Time: at(), File: randomText(r), Line: r.IntN(1e6), RuleID: randomText(r), Text: randomText(r)})
	}
	return in
}

// FuzzIncidentJSON: any text in any string of an incident, a key of its
// counts by rule included, is written as encoding/json writes it.
func FuzzIncidentJSON(f *testing.F) {
	for _, s := range textPieces {
		f.Add(s, "nginx.upstream.timeout")
	}
	f.Fuzz(func(t *testing.T, text, id string) {
		in := &incident.Incident{
			ID: id, Title: text, Subject: text, CountsByRule: map[string]int64{id: 1, text: 2},
			RootCause: incident.RootCause{Cause: text}, Remediation: []string{text, id},
			Requests: []incident.Count{{Value: text, Count: 3}},
			Samples:  []incident.Sample{{Text: text, File: id}},
		}
		sameAsMarshalIndent(t, in)
	})
}

// BenchmarkJSON writes the JSON report of 2,000 incidents, shaped like
// the tests' (rule text, counts, samples), to nowhere.
func BenchmarkJSON(b *testing.B) {
	a := testAnalysis()
	base := a.Incidents.(List)
	var ins List
	for i := range 2000 {
		in := *base[i%len(base)]
		in.ID = fmt.Sprintf("%s-%04d", in.ID, i)
		ins = append(ins, &in)
	}
	a.Incidents = ins
	var n countWriter
	for b.Loop() {
		if err := JSON(&n, a); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(n) / int64(b.N))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ins)), "ns/incident")
}

// countWriter counts the bytes written to it.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
