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
			if err := writeJSON(&want, NewAnalysisJSON(a)); err != nil {
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
