package incident

import (
	"sort"
	"strings"
	"time"

	"github.com/logtriage/logtriage/parser"
)

// Template is a shape of record that no rule knows: the message with
// numbers, addresses, paths and quoted strings masked, how often it was
// seen and one real sample. Templates make a new kind of failure visible
// instead of silently unmatched.
type Template struct {
	Server  string
	Level   string
	Pattern string // e.g. `upstream sent <*> while reading <*> from upstream`
	Count   int64
	First   time.Time
	Last    time.Time
	Sample  string // one record as written; untrusted
}

// Templates clusters records into Templates, keeping at most max shapes;
// records of further shapes are counted in one "other" template.
type Templates struct {
	max   int
	byKey map[templateKey]*Template
	other *Template
}

// templateKey is what a template is found by: no string is built for
// every record.
type templateKey struct {
	server  parser.Server
	level   parser.Level
	pattern string
}

// NewTemplates returns an empty set bounded to max shapes.
func NewTemplates(max int) *Templates {
	return &Templates{max: max, byKey: map[templateKey]*Template{}}
}

// add counts a record whose template is pattern, Mask(en.Message).
func (ts *Templates) add(en *parser.Entry, pattern string) {
	k := templateKey{en.Server, en.Level, pattern}
	t, ok := ts.byKey[k]
	if !ok {
		if len(ts.byKey) >= ts.max {
			if ts.other == nil {
				ts.other = &Template{Server: "*", Level: "*", Pattern: "(other shapes)", First: en.Time, Sample: clip(en.Raw)}
			}
			t = ts.other
		} else {
			t = &Template{Server: en.Server.String(), Level: en.Level.String(), Pattern: pattern, First: en.Time, Sample: clip(en.Raw)}
			ts.byKey[k] = t
		}
	}
	t.Count++
	if en.Time.After(t.Last) {
		t.Last = en.Time
	}
	if en.Time.Before(t.First) {
		t.First = en.Time
	}
}

// List returns the templates, commonest first.
func (ts *Templates) List() []Template {
	out := make([]Template, 0, len(ts.byKey)+1)
	for _, t := range ts.byKey {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Pattern < out[j].Pattern
	})
	if ts.other != nil {
		out = append(out, *ts.other)
	}
	return out
}

// clip returns a copy of the first 1024 bytes of s: a copy, so that a
// kept sample does not keep the block of input its record lies in.
func clip(s string) string {
	return strings.Clone(s[:min(len(s), 1024)])
}

// Mask turns a message into its shape: quoted strings, addresses, paths,
// hex and decimal numbers become <*>, so that records differing only in
// those fall into one template. Only the first line counts.
func Mask(msg string) string {
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 512 {
		msg = msg[:512]
	}
	var b strings.Builder
	const wild = "<*>"
	wrote := func() bool { return strings.HasSuffix(b.String(), wild) }
	for i := 0; i < len(msg); {
		c := msg[i]
		switch {
		case c == '"' || c == '\'':
			j := strings.IndexByte(msg[i+1:], c)
			if j < 0 {
				j = len(msg) - i - 1
			}
			b.WriteByte(c)
			b.WriteString(wild)
			b.WriteByte(c)
			i += j + 2
		case isTokenStart(msg, i):
			j := i
			for j < len(msg) && !isSep(msg[j]) {
				j++
			}
			if !wrote() {
				b.WriteString(wild)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// isTokenStart reports a variable token at i: a number, an address, a
// path, a hex value, at the start of a word.
func isTokenStart(s string, i int) bool {
	if i > 0 && !isSep(s[i-1]) {
		return false
	}
	c := s[i]
	switch {
	case c >= '0' && c <= '9', c == '/', c == '[':
		return true
	case strings.HasPrefix(s[i:], "unix:/"), strings.HasPrefix(s[i:], "http://"), strings.HasPrefix(s[i:], "https://"), strings.HasPrefix(s[i:], "fastcgi://"):
		return true
	case c == '*' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
		return true
	}
	return false
}

func isSep(c byte) bool {
	switch c {
	case ' ', '\t', ',', '(', ')', ';', '=', '"', '\'':
		return true
	}
	return false
}
