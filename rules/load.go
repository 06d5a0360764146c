package rules

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules/internal/rulefile"
)

//go:generate go run ./internal/genbuiltin

// Error is a problem in a rule file, located by file and line.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

var (
	idRE       = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)
	groupRE    = regexp.MustCompile(`^[a-z0-9_]+$`)
	explainsRE = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*|\*)?$`)
)

// MinExamples is how many examples every rule must carry.
const MinExamples = 2

// parseFile decodes and compiles one rule file. Rules with disabled: true
// come back with a nil Pattern.
func parseFile(name string, data []byte) ([]*Rule, error) {
	f, err := rulefile.Decode(name, data)
	if err != nil {
		return nil, locate(err)
	}
	return build(f)
}

// locate makes a decoding error an Error naming the file and line.
func locate(err error) error {
	if le, ok := errors.AsType[*rulefile.Error](err); ok {
		return &Error{File: le.File, Line: le.Line, Err: le.Err}
	}
	return err
}

// build validates and compiles the rules of a decoded file, the same for
// a user file and for a built-in one.
func build(f rulefile.File) ([]*Rule, error) {
	var out []*Rule
	seen := map[string]int{}
	for _, rr := range f.Rules {
		if prev, dup := seen[rr.ID]; dup {
			return nil, &Error{f.Name, rr.LineNo, fmt.Errorf("rule %q defined twice (first at line %d)", rr.ID, prev)}
		}
		seen[rr.ID] = rr.LineNo
		r, err := compile(f.Name, rr)
		if err != nil {
			return nil, &Error{f.Name, rr.LineNo, err}
		}
		out = append(out, r)
	}
	return out, nil
}

// compile validates one rule of the file name and compiles it. The Rule
// takes copies of rr's slices and maps: the built-in rules' data is
// shared by every Load of the process (watch reloads on SIGHUP).
func compile(name string, rr rulefile.Rule) (*Rule, error) {
	if !idRE.MatchString(rr.ID) {
		return nil, fmt.Errorf("rule id %q: want dotted lower-case words like nginx.upstream.timeout.read_header", rr.ID)
	}
	r := &Rule{ID: rr.ID, Source: fmt.Sprintf("%s:%d", name, rr.LineNo)}
	if rr.Disabled {
		return r, nil
	}
	fail := func(format string, args ...any) (*Rule, error) {
		return nil, fmt.Errorf("rule %s: "+format, append([]any{rr.ID}, args...)...)
	}
	if len(rr.Servers) == 0 {
		return fail("servers: missing")
	}
	for _, s := range rr.Servers {
		srv, ok := parser.ParseServer(s)
		if !ok {
			return fail("servers: unknown server %q (want nginx, apache or php-fpm)", s)
		}
		r.Servers = append(r.Servers, srv)
	}
	for _, l := range rr.Levels {
		lv, ok := parser.ParseLevel(l)
		if !ok {
			return fail("levels: unknown level %q", l)
		}
		r.Levels = append(r.Levels, lv)
	}
	r.Errno = slices.Clone(rr.Errno)
	if rr.Pattern == "" {
		return fail("pattern: missing")
	}
	re, err := regexp.Compile(rr.Pattern)
	if err != nil {
		return fail("pattern: %v", err)
	}
	r.Pattern = re
	r.names = re.SubexpNames()
	if rr.Anchor == "" {
		return fail("anchor: missing (a literal every matching message contains)")
	}
	r.Anchor = rr.Anchor
	var ok bool
	if r.Severity, ok = ParseSeverity(rr.Severity); !ok {
		return fail("severity: %q is not one of %s", rr.Severity, strings.Join(SeverityNames(), ", "))
	}
	if !slices.Contains(Categories, rr.Category) {
		return fail("category: %q is not one of %s", rr.Category, strings.Join(Categories, ", "))
	}
	r.Category = rr.Category
	if !slices.Contains(Roles, rr.Role) {
		return fail("role: %q is not one of %s", rr.Role, strings.Join(Roles, ", "))
	}
	r.Role = rr.Role
	if rr.HTTPStatus != 0 && (rr.HTTPStatus < 100 || rr.HTTPStatus > 599) {
		return fail("http_status: %d is not an HTTP status", rr.HTTPStatus)
	}
	r.HTTPStatus = rr.HTTPStatus
	for key, v := range map[string]string{"title": rr.Title, "cause": rr.Cause} {
		if strings.TrimSpace(v) == "" {
			return fail("%s: missing", key)
		}
	}
	r.Title = strings.TrimSpace(rr.Title)
	r.Cause = strings.TrimSpace(rr.Cause)
	if len(rr.Remediation) == 0 {
		return fail("remediation: missing")
	}
	if len(rr.Diagnostics) == 0 {
		return fail("diagnostics: missing")
	}
	r.Remediation = slices.Clone(rr.Remediation)
	r.Diagnostics = slices.Clone(rr.Diagnostics)
	if !slices.Contains(SubjectKinds, rr.Subject.Kind) {
		return fail("subject.kind: %q is not one of %s", rr.Subject.Kind, strings.Join(SubjectKinds, ", "))
	}
	r.SubjectKind = rr.Subject.Kind
	known := func(n string) bool {
		return slices.Contains(r.names, n) || slices.Contains(parser.FieldNames, n)
	}
	if r.Subject, err = ParseTemplate(rr.Subject.Value, known); err != nil {
		return fail("subject.value: %v", err)
	}
	r.Subject.bind(r.names)
	r.Generic = rr.Generic
	if rr.Group != "" && !idRE.MatchString(rr.Group) && !groupRE.MatchString(rr.Group) {
		return fail("group: %q: want a dotted lower-case name", rr.Group)
	}
	r.Group = rr.Group
	if rr.Marker != "" && !slices.Contains(Markers, rr.Marker) {
		return fail("marker: %q is not one of %s", rr.Marker, strings.Join(Markers, ", "))
	}
	r.Marker = rr.Marker
	for _, x := range rr.Explains {
		if !explainsRE.MatchString(x) {
			return fail("explains: %q: want rule ids, a trailing * for a prefix", x)
		}
	}
	r.Explains = slices.Clone(rr.Explains)
	if len(rr.Examples) < MinExamples {
		return fail("examples: %d given, at least %d needed", len(rr.Examples), MinExamples)
	}
	for j, ex := range rr.Examples {
		e := Example{Line: ex.Line, Captures: maps.Clone(ex.Captures), Source: fmt.Sprintf("%s:%d", name, ex.LineNo)}
		if strings.TrimSpace(ex.Line) == "" {
			return fail("example %d: line missing", j+1)
		}
		for name := range ex.Captures {
			if !slices.Contains(r.names, name) {
				return fail("example %d: captures: the pattern has no capture %q", j+1, name)
			}
		}
		if ex.Subject != nil {
			e.Subject = *ex.Subject
		} else {
			e.Subject = "\x00" // not asserted
		}
		r.Examples = append(r.Examples, e)
	}
	return r, nil
}

// ExampleAssertsSubject reports whether the example states its subject.
func (e Example) AssertsSubject() bool { return e.Subject != "\x00" }

// Load builds a rule set from the built-in files (unless noBuiltin) and
// the user files in order. A user rule with a built-in's id replaces it
// in place; a new id is tried before the built-ins, so a user can refine
// what a built-in catches. disabled: true removes a rule.
func Load(noBuiltin bool, userFiles ...string) (*Set, error) {
	var base []*Rule
	if !noBuiltin {
		var err error
		if base, err = builtinRules(); err != nil {
			return nil, fmt.Errorf("built-in rules: %w", err)
		}
	}
	var user []*Rule
	for _, name := range userFiles {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		rs, err := parseFile(name, data)
		if err != nil {
			return nil, err
		}
		user = append(user, rs...)
	}
	return merge(base, user), nil
}

// builtinRules compiles the built-in files from their decoded form,
// builtinFiles: decoding their YAML at every start would cost more than
// all the rest of loading.
func builtinRules() ([]*Rule, error) { return buildFiles(builtinFiles) }

// buildFiles builds the files, each on a goroutine of its own, and joins
// their rules in order. An id may be defined only once across the files.
func buildFiles(files []rulefile.File) ([]*Rule, error) {
	type built struct {
		rules []*Rule
		err   error
	}
	out := make([]built, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() { out[i].rules, out[i].err = build(f) })
	}
	wg.Wait()
	var rules []*Rule
	ids := map[string]string{}
	for _, b := range out {
		if b.err != nil {
			return nil, b.err
		}
		for _, r := range b.rules {
			if prev, dup := ids[r.ID]; dup {
				return nil, fmt.Errorf("%s: rule %q already defined at %s", r.Source, r.ID, prev)
			}
			ids[r.ID] = r.Source
		}
		rules = append(rules, b.rules...)
	}
	return rules, nil
}

func merge(base, user []*Rule) *Set {
	byID := map[string]int{}
	for i, r := range base {
		byID[r.ID] = i
	}
	var added []*Rule
	for _, u := range user {
		if i, ok := byID[u.ID]; ok {
			base[i] = u
			continue
		}
		added = append(added, u)
	}
	all := append(added, base...)
	var live []*Rule
	for _, r := range all {
		if r.Pattern != nil {
			live = append(live, r)
		}
	}
	return NewSet(live)
}
