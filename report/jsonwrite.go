package report

import (
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/logtriage/logtriage/incident"
)

// appendIncidentJSON appends in as NewIncidentJSON(in) marshalled and laid
// out with prefix and two spaces of indent per level would be, written
// straight from the incident: a report of a busy day holds thousands of
// incidents, and marshalling each by reflection, then laying it out in a
// second pass over its bytes, was most of the time JSON took.
func appendIncidentJSON(dst []byte, in *incident.Incident, prefix string) []byte {
	w := jsonWriter{b: dst, prefix: prefix}
	w.open('{')
	w.strField("id", in.ID)
	w.strs("rule_ids", in.RuleIDs())
	w.strField("severity", in.Severity.String())
	w.strField("title", in.Title)
	w.strField("subject", in.Subject)
	w.strField("subject_kind", in.SubjectKind)
	w.strField("group", in.Group)
	w.timeField("start", in.Start)
	w.timeField("end", in.End)
	w.intField("duration_seconds", int64(math.Round(in.Duration().Seconds())))
	w.intField("count", in.Count)
	w.key("counts_by_rule")
	w.open('{')
	ids := make([]string, 0, len(in.CountsByRule))
	for id := range in.CountsByRule {
		ids = append(ids, id)
	}
	slices.Sort(ids) // as encoding/json orders a map's keys
	for _, id := range ids {
		w.elem()
		w.b = appendJSONString(w.b, id)
		w.b = append(w.b, ": "...)
		w.int(in.CountsByRule[id])
	}
	w.close('}')
	w.intField("peak_per_minute", in.PeakPerMinute)
	w.strs("sources", in.Sources)
	w.key("root_cause")
	w.open('{')
	w.strField("rule_id", in.RootCause.RuleID)
	w.strField("title", in.RootCause.Title)
	w.strField("cause", in.RootCause.Cause)
	w.intField("count", in.RootCause.Count)
	w.close('}')
	w.strs("remediation", in.Remediation)
	w.strs("diagnostics", in.Diagnostics)
	w.key("http_status")
	w.open('[')
	for _, s := range in.HTTPStatus {
		w.elem()
		w.int(int64(s))
	}
	w.close(']')
	w.counts("vhosts", in.VHosts)
	w.counts("requests", in.Requests)
	w.counts("scripts", in.Scripts)
	w.strs("pools", in.Pools)
	w.intField("clients", in.Clients)
	w.key("deploy_blip")
	w.b = strconv.AppendBool(w.b, in.DeployBlip)
	w.key("samples")
	w.open('[')
	for _, s := range in.Samples {
		w.elem()
		w.open('{')
		w.timeField("time", s.Time)
		w.strField("file", s.File)
		w.intField("line", int64(s.Line))
		w.strField("rule_id", s.RuleID)
		w.strField("text", s.Text)
		w.close('}')
	}
	w.close(']')
	w.close('}')
	return w.b
}

// jsonWriter appends JSON laid out as json.MarshalIndent lays it out:
// each element on a line of its own, after prefix and two spaces per
// level; an empty object or list stays "{}" or "[]".
type jsonWriter struct {
	b      []byte
	prefix string
	depth  int
	empty  bool // the object or list being written has no element yet
}

func (w *jsonWriter) newline() {
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.prefix...)
	for range w.depth {
		w.b = append(w.b, "  "...)
	}
}

// elem starts an element of the object or list being written.
func (w *jsonWriter) elem() {
	if !w.empty {
		w.b = append(w.b, ',')
	}
	w.empty = false
	w.newline()
}

// key starts a member of the object being written; k needs no escaping.
func (w *jsonWriter) key(k string) {
	w.elem()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, `": `...)
}

func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.empty = true
}

func (w *jsonWriter) close(c byte) {
	w.depth--
	if !w.empty {
		w.newline()
	}
	w.b = append(w.b, c)
	w.empty = false
}

func (w *jsonWriter) str(s string) { w.b = appendJSONString(w.b, s) }

func (w *jsonWriter) int(n int64) { w.b = strconv.AppendInt(w.b, n, 10) }

func (w *jsonWriter) strField(k, v string) {
	w.key(k)
	w.str(v)
}

func (w *jsonWriter) intField(k string, n int64) {
	w.key(k)
	w.int(n)
}

// timeField writes t as jsonTime does, with no byte that needs escaping.
func (w *jsonWriter) timeField(k string, t time.Time) {
	w.key(k)
	w.b = append(w.b, '"')
	if !t.IsZero() {
		w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	}
	w.b = append(w.b, '"')
}

func (w *jsonWriter) strs(k string, ss []string) {
	w.key(k)
	w.open('[')
	for _, s := range ss {
		w.elem()
		w.str(s)
	}
	w.close(']')
}

func (w *jsonWriter) counts(k string, cs []incident.Count) {
	w.key(k)
	w.open('[')
	for _, c := range cs {
		w.elem()
		w.open('{')
		w.strField("value", c.Value)
		w.intField("count", c.Count)
		w.close('}')
	}
	w.close(']')
}

// appendJSONString appends s quoted as encoding/json quotes a string:
// quote, backslash and control bytes escaped, and so are <, > and &
// (safe inside HTML), U+2028 and U+2029 (safe in JavaScript); a byte
// that is not UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default: // other control bytes, <, > and &
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonPlain holds the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()
