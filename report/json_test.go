package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/incident"
)

// TestJSONStreamsTheSameDocument: JSON writes incidents one at a time;
// the bytes must be those of encoding the whole document at once, with
// no incident, one, and several carrying hostile text.
func TestJSONStreamsTheSameDocument(t *testing.T) {
	one := testAnalysis()
	one.Incidents = one.Incidents.(List)[:1]
	// Several windows of incidents encoded on every core, the last one
	// partly full: each in its place.
	many := testAnalysis()
	base := many.Incidents.(List)
	var ins List
	for i := range 2*jsonWindow + 3 {
		in := *base[i%len(base)]
		in.ID = fmt.Sprintf("%s-%03d", in.ID, i)
		in.Count = int64(i + 1)
		ins = append(ins, &in)
	}
	many.Incidents = ins
	for name, a := range map[string]*Analysis{
		"empty":     emptyAnalysis(),
		"one":       one,
		"many":      many,
		"several":   testAnalysis(),
		"hostile":   hostileAnalysis(),
		"hostile 2": hostileHTMLAnalysis(),
	} {
		t.Run(name, func(t *testing.T) {
			var want, got bytes.Buffer
			if err := writeJSON(&want, wholeDocument(a)); err != nil {
				t.Fatal(err)
			}
			if err := JSON(&got, a); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("streamed document differs (-whole +streamed):\n%s", diff)
			}
			if !json.Valid(got.Bytes()) {
				t.Error("not valid JSON")
			}
		})
	}
}

// wholeDocument is the analysis converted at once, as JSON wrote it
// before it streamed.
func wholeDocument(a *Analysis) AnalysisJSON {
	j := analysisHead(a)
	for _, in := range a.incidents().All() {
		j.Incidents = append(j.Incidents, NewIncidentJSON(in))
	}
	return j
}

// failAfter is a writer that takes n bytes, then fails.
type failAfter struct{ n int }

func (f *failAfter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		k := f.n
		f.n = 0
		return k, errors.New("disk full")
	}
	f.n -= len(b)
	return len(b), nil
}

// TestJSONStopsAtAWriteError: a write that fails in the middle of the
// incidents ends JSON with its error, the reading and encoding of the
// incidents ahead stopped, wherever it falls.
func TestJSONStopsAtAWriteError(t *testing.T) {
	a := testAnalysis()
	base := a.Incidents.(List)
	var ins List
	for i := range 5 * jsonWindow {
		in := *base[i%len(base)]
		in.ID = fmt.Sprintf("%s-%03d", in.ID, i)
		ins = append(ins, &in)
	}
	a.Incidents = ins
	var whole bytes.Buffer
	if err := JSON(&whole, a); err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, 100, whole.Len() / 5, whole.Len() / 2, whole.Len() - 10} {
		counted := &countingIncidents{List: ins}
		a.Incidents = counted
		if err := JSON(&failAfter{n: at}, a); err == nil || err.Error() != "disk full" {
			t.Errorf("failing after %d bytes: err %v, want disk full", at, err)
		}
		// The write fails in the element of the incident begun last
		// before byte at; no more than a window past it is read.
		begun := bytes.Count(whole.Bytes()[:at], []byte("\n    {"))
		if counted.read > begun+jsonWindow+1 {
			t.Errorf("failing after %d bytes (in incident %d): %d of %d incidents read", at, begun, counted.read, len(ins))
		}
	}
}

// countingIncidents counts the incidents read from it.
type countingIncidents struct {
	List
	read int
}

func (c *countingIncidents) All() iter.Seq2[int, *incident.Incident] {
	return func(yield func(int, *incident.Incident) bool) {
		for i, in := range c.List {
			c.read++
			if !yield(i, in) {
				return
			}
		}
	}
}
