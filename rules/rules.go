// Package rules loads the rule library, validates it and matches parsed
// log entries against it.
//
// Rules are data: the built-in library is a set of YAML files compiled
// into the binary, and users add or replace rules with files of their own
// (see docs/rules.md). Every rule carries example lines and what they must
// yield, so the library tests itself.
package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/logtriage/logtriage/parser"
)

// Severity ranks a rule, and later an incident, by its effect on clients.
type Severity uint8

// Severities, least severe first.
const (
	SeverityNone Severity = iota
	SeverityInfo
	SeverityNotice
	SeverityWarning
	SeverityError
	SeverityCritical
)

var severityNames = [...]string{"none", "info", "notice", "warning", "error", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, bool) {
	switch strings.ToLower(s) {
	case "info":
		return SeverityInfo, true
	case "notice":
		return SeverityNotice, true
	case "warning", "warn":
		return SeverityWarning, true
	case "error":
		return SeverityError, true
	case "critical", "crit":
		return SeverityCritical, true
	}
	return SeverityNone, false
}

// SeverityNames lists the valid severity names, least severe first.
func SeverityNames() []string { return severityNames[1:] }

// Categories and roles a rule may name; see docs/rules.md.
var (
	Categories = []string{"upstream", "capacity", "application", "client", "static", "tls",
		"dns", "resource", "process", "config", "lifecycle"}
	Roles        = []string{"symptom", "cause", "context"}
	SubjectKinds = []string{"upstream", "socket", "pool", "vhost", "path", "zone", "process", "client", "host"}
	// Markers say what a lifecycle record marks: a service going down,
	// coming up, or reloading.
	Markers = []string{"down", "up", "reload"}
)

// Rule is one compiled rule.
type Rule struct {
	ID          string
	Servers     []parser.Server
	Levels      []parser.Level // empty: any level
	Errno       []int          // empty: any errno
	Anchor      string
	Pattern     *regexp.Regexp
	Severity    Severity
	Category    string
	Role        string
	HTTPStatus  int
	Title       string
	Cause       string
	Remediation []string
	Diagnostics []string
	SubjectKind string
	Subject     Template
	Generic     bool
	// Group names the problem family; records of one group on one subject
	// form one incident. Empty means the engine's default (see the
	// incident package).
	Group string
	// Marker is "down", "up" or "reload" for lifecycle records that frame
	// restart windows; empty otherwise.
	Marker string
	// Explains lists the rules (ids, or prefixes ending in *) whose
	// records this cause accounts for: php-fpm's max_children explains
	// nginx's EAGAIN refusals and timeouts.
	Explains []string
	Examples []Example

	// Source is "file:line" of the rule's definition.
	Source string

	names []string // capture names by submatch index; "" for unnamed
}

// Example is a log record a rule must match, with what it must yield.
type Example struct {
	Line     string
	Captures map[string]string
	Subject  string
	Source   string // file:line
}

// CaptureNames returns the rule's named captures in pattern order.
func (r *Rule) CaptureNames() []string {
	var out []string
	for _, n := range r.names {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// ExplainsRule reports whether r's Explains list covers the rule id.
func (r *Rule) ExplainsRule(id string) bool {
	for _, x := range r.Explains {
		if p, ok := strings.CutSuffix(x, "*"); ok && strings.HasPrefix(id, p) || x == id {
			return true
		}
	}
	return false
}

// HasServer reports whether the rule applies to records of s.
func (r *Rule) HasServer(s parser.Server) bool {
	for _, x := range r.Servers {
		if x == s {
			return true
		}
	}
	return false
}

// Match is the result of matching an entry: the rule and its captures.
// It holds the submatches as offsets into the entry's message, so making
// one allocates nothing for a pattern of up to maxInline submatches.
type Match struct {
	Rule *Rule
	// Subject is the rule's subject template expanded for the entry.
	Subject string

	text string // the message the offsets are in
	n    int    // submatches, the whole match included
	offs [2 * maxInline]int32
	more []int // the offsets when n > maxInline
}

// maxInline is how many submatches, the whole match included, a Match
// keeps without a slice of its own: most patterns have fewer.
const maxInline = 8

// setMatch makes *m the Match of r for text from the submatch offsets of
// its pattern (as FindStringSubmatchIndex gives them). Subject is left
// alone.
func setMatch(m *Match, r *Rule, text string, idx []int) {
	m.Rule, m.text, m.n = r, text, len(idx)/2
	if m.n > maxInline {
		m.more = slices.Clone(idx)
		return
	}
	m.more = nil
	for i, x := range idx {
		m.offs[i] = int32(x)
	}
}

// Value returns submatch i (0 is the whole match), or "" when there is
// no such submatch or it did not take part.
func (m *Match) Value(i int) string {
	if i < 0 || i >= m.n {
		return ""
	}
	var a, b int
	if m.more != nil {
		a, b = m.more[2*i], m.more[2*i+1]
	} else {
		a, b = int(m.offs[2*i]), int(m.offs[2*i+1])
	}
	if a < 0 {
		return ""
	}
	return m.text[a:b]
}

// Values returns the submatches by capture index (0 is the whole match);
// use Capture to read one by name.
func (m *Match) Values() []string {
	out := make([]string, m.n)
	for i := range out {
		out[i] = m.Value(i)
	}
	return out
}

// Capture returns the named capture, or "" when the pattern has no such
// capture or it did not participate.
func (m *Match) Capture(name string) string {
	for i, n := range m.Rule.names {
		if n == name {
			return m.Value(i)
		}
	}
	return ""
}

// Captures returns the named captures that matched, as a map.
func (m *Match) Captures() map[string]string {
	out := make(map[string]string)
	for i, n := range m.Rule.names {
		if v := m.Value(i); n != "" && v != "" {
			out[n] = v
		}
	}
	return out
}

// subject expands the rule's subject template for an entry and the
// submatches of m.
func (r *Rule) subject(e *parser.Entry, m *Match) string {
	t := &r.Subject
	if !t.bound {
		return t.Expand(func(name string) string {
			for i, n := range r.names {
				if n == name {
					return m.Value(i)
				}
			}
			v, _ := e.Field(name)
			return v
		})
	}
	// Bound to the pattern's captures: a template of one part, the
	// common kind, costs no allocation.
	if len(t.parts) == 1 {
		return t.parts[0].value(e, m)
	}
	var b strings.Builder
	for i := range t.parts {
		b.WriteString(t.parts[i].value(e, m))
	}
	return b.String()
}

// value is a bound part's text: its literal, or the first of its names
// with a value.
func (p *tmplPart) value(e *parser.Entry, m *Match) string {
	if p.names == nil {
		return p.lit
	}
	for i, ref := range p.refs {
		var v string
		if ref >= 0 {
			v = m.Value(ref)
		} else {
			v, _ = e.Field(p.names[i])
		}
		if v != "" {
			return v
		}
	}
	return ""
}

// Template is a subject template: literal text with {name} or {a|b}
// references, expanded from captures and entry fields.
type Template struct {
	text  string
	parts []tmplPart
	bound bool // bind resolved the names: refs are set
}

type tmplPart struct {
	lit   string
	names []string // alternatives; empty for a literal part
	// refs, once bound to a pattern's captures, has for each name the
	// index of the submatch it names, or -1 for a field of the entry.
	refs []int
}

// ParseTemplate compiles a template. known reports whether a name can be
// resolved; an unknown name is an error.
func ParseTemplate(s string, known func(string) bool) (Template, error) {
	t := Template{text: s}
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			t.parts = append(t.parts, tmplPart{lit: s})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return Template{}, fmt.Errorf("unclosed { in %q", t.text)
		}
		names := strings.Split(s[i+1:i+j], "|")
		for _, n := range names {
			if n == "" || !known(n) {
				return Template{}, fmt.Errorf("template %q: unknown name %q", t.text, n)
			}
		}
		t.parts = append(t.parts, tmplPart{names: names})
		s = s[i+j+1:]
	}
	return t, nil
}

// bind resolves the template's names against the capture names of a
// pattern (by submatch index), as Rule.subject would each time: a
// capture before a field of the same name.
func (t *Template) bind(captures []string) {
	for i := range t.parts {
		p := &t.parts[i]
		if p.names == nil {
			continue
		}
		p.refs = make([]int, len(p.names))
		for j, n := range p.names {
			p.refs[j] = slices.Index(captures, n)
		}
	}
	t.bound = true
}

// String returns the template's source text.
func (t Template) String() string { return t.text }

// Expand fills the template; each {a|b} takes the first non-empty value.
func (t Template) Expand(get func(string) string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.names == nil {
			b.WriteString(p.lit)
			continue
		}
		for _, n := range p.names {
			if v := get(n); v != "" {
				b.WriteString(v)
				break
			}
		}
	}
	return b.String()
}
