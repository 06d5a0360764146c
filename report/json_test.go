package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJSONStreamsTheSameDocument: JSON writes incidents one at a time;
// the bytes must be those of encoding the whole document at once, with
// no incident, one, and several carrying hostile text.
func TestJSONStreamsTheSameDocument(t *testing.T) {
	one := testAnalysis()
	one.Incidents = one.Incidents[:1]
	for name, a := range map[string]*Analysis{
		"empty":     emptyAnalysis(),
		"one":       one,
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
	for _, in := range a.Incidents {
		j.Incidents = append(j.Incidents, NewIncidentJSON(in))
	}
	return j
}
