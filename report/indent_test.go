package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// indentCases are compact JSON documents that exercise the layout.
var indentCases = []string{
	`{}`, `[]`, `{"a":{}}`, `{"a":[]}`, `[[],{}]`, `"x"`, `1`, `null`,
	`{"a":1,"b":[1,2,{"c":"d"}],"e":{"f":null}}`,
	`{"s":"a\"b\\","t":"{[,:]}","u":"\\\""}`,
	`[{"a":[{"b":[[]]}]},true,false,-1.5e10]`,
	`{"\u003cscript\u003e":"\u0026\u2028"}`,
}

func sameAsIndent(t *testing.T, src []byte) {
	t.Helper()
	for _, p := range [][2]string{{"", "  "}, {"    ", "  "}, {">", "\t"}} {
		var want bytes.Buffer
		if err := json.Indent(&want, src, p[0], p[1]); err != nil {
			t.Fatalf("json.Indent(%q): %v", src, err)
		}
		if got := appendIndented(nil, src, p[0], p[1]); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendIndented(%q, %q, %q) =\n%s\nwant\n%s", src, p[0], p[1], got, want.Bytes())
		}
	}
}

func TestAppendIndentedAsJSONIndent(t *testing.T) {
	for _, c := range indentCases {
		sameAsIndent(t, []byte(c))
	}
	// Every report in the tests, and random values marshalled.
	for _, a := range []*Analysis{testAnalysis(), hostileAnalysis(), hostileHTMLAnalysis(), emptyAnalysis()} {
		for _, in := range a.incidents().All() {
			b, err := json.Marshal(NewIncidentJSON(in))
			if err != nil {
				t.Fatal(err)
			}
			sameAsIndent(t, b)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 2000 {
		b, err := json.Marshal(randomValue(r, 4))
		if err != nil {
			t.Fatal(err)
		}
		sameAsIndent(t, b)
	}
}

var pieces = []string{"", "a", `"`, `\`, "{", "}", "[", "]", ",", ":", " ", "\n", "é", "\xff", "<", "\u2028", "\x00"}

func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(6); {
	case depth == 0 || k == 0:
		s := ""
		for range r.IntN(5) {
			s += pieces[r.IntN(len(pieces))]
		}
		return s
	case k == 1:
		return r.Float64() * 1e6
	case k == 2:
		return nil
	case k == 3:
		var out []any
		for range r.IntN(4) {
			out = append(out, randomValue(r, depth-1))
		}
		return out
	default:
		out := map[string]any{}
		for range r.IntN(4) {
			out[randomValue(r, 0).(string)] = randomValue(r, depth-1)
		}
		return out
	}
}

// FuzzAppendIndented: any JSON, compacted as Marshal writes it, is laid
// out as json.Indent lays it out.
func FuzzAppendIndented(f *testing.F) {
	for _, c := range indentCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			return
		}
		sameAsIndent(t, compact.Bytes())
	})
}
