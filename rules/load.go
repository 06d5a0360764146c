package rules

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/logtriage/logtriage/parser"
)

//go:embed builtin/*.yaml
var builtin embed.FS

// Builtin returns the built-in rule files.
func Builtin() fs.FS {
	sub, err := fs.Sub(builtin, "builtin")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

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

// file and rawRule mirror the YAML layout; see docs/rules.md.
type file struct {
	Rules []rawRule `yaml:"rules"`
}

type rawRule struct {
	ID          string       `yaml:"id"`
	Disabled    bool         `yaml:"disabled"`
	Servers     []string     `yaml:"servers"`
	Levels      []string     `yaml:"levels"`
	Errno       []int        `yaml:"errno"`
	Anchor      string       `yaml:"anchor"`
	Pattern     string       `yaml:"pattern"`
	Severity    string       `yaml:"severity"`
	Category    string       `yaml:"category"`
	Role        string       `yaml:"role"`
	HTTPStatus  int          `yaml:"http_status"`
	Title       string       `yaml:"title"`
	Cause       string       `yaml:"cause"`
	Remediation []string     `yaml:"remediation"`
	Diagnostics []string     `yaml:"diagnostics"`
	Subject     rawSubject   `yaml:"subject"`
	Generic     bool         `yaml:"generic"`
	Group       string       `yaml:"group"`
	Marker      string       `yaml:"marker"`
	Explains    []string     `yaml:"explains"`
	Examples    []rawExample `yaml:"examples"`
}

type rawSubject struct {
	Kind  string `yaml:"kind"`
	Value string `yaml:"value"`
}

type rawExample struct {
	Line     string            `yaml:"line"`
	Captures map[string]string `yaml:"captures"`
	Subject  *string           `yaml:"subject"`
}

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
	// A second pass over the node tree gives each rule and example its
	// line, for errors and for `rules show`. It runs alongside the
	// decoding: YAML is slow to read, and every run reads the rules.
	var doc yaml.Node
	docErr := make(chan error, 1)
	go func() { docErr <- yaml.Unmarshal(data, &doc) }()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		<-docErr
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(name, err)
	}
	if err := <-docErr; err != nil {
		return nil, yamlError(name, err)
	}
	ruleNodes := seqUnder(&doc, "rules")

	var out []*Rule
	seen := map[string]int{}
	for i, rr := range f.Rules {
		line := 0
		var exNodes []*yaml.Node
		if i < len(ruleNodes) {
			line = ruleNodes[i].Line
			exNodes = seqUnder(ruleNodes[i], "examples")
		}
		if prev, dup := seen[rr.ID]; dup {
			return nil, &Error{name, line, fmt.Errorf("rule %q defined twice (first at line %d)", rr.ID, prev)}
		}
		seen[rr.ID] = line
		r, err := compile(rr, fmt.Sprintf("%s:%d", name, line), func(j int) int {
			if j < len(exNodes) {
				return exNodes[j].Line
			}
			return line
		})
		if err != nil {
			return nil, &Error{name, line, err}
		}
		out = append(out, r)
	}
	return out, nil
}

func compile(rr rawRule, source string, exLine func(int) int) (*Rule, error) {
	if !idRE.MatchString(rr.ID) {
		return nil, fmt.Errorf("rule id %q: want dotted lower-case words like nginx.upstream.timeout.read_header", rr.ID)
	}
	r := &Rule{ID: rr.ID, Source: source}
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
	r.Errno = rr.Errno
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
	r.Remediation = rr.Remediation
	r.Diagnostics = rr.Diagnostics
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
	r.Explains = rr.Explains
	if len(rr.Examples) < MinExamples {
		return fail("examples: %d given, at least %d needed", len(rr.Examples), MinExamples)
	}
	for j, ex := range rr.Examples {
		e := Example{Line: ex.Line, Captures: ex.Captures, Source: fmt.Sprintf("%s:%d", strings.SplitN(source, ":", 2)[0], exLine(j))}
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

// yamlError turns yaml.v3's "yaml: line 12: ..." into a located Error.
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	line := 0
	if rest, ok := strings.CutPrefix(msg, "unmarshal errors:\n  "); ok {
		msg = rest
	}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			fmt.Sscanf(rest[:i], "%d", &line)
			msg = rest[i+2:]
		}
	}
	return &Error{File: name, Line: line, Err: errors.New(msg)}
}

func seqUnder(n *yaml.Node, key string) []*yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.SequenceNode {
			return n.Content[i+1].Content
		}
	}
	return nil
}

// Load builds a rule set from the built-in files (unless noBuiltin) and
// the user files in order. A user rule with a built-in's id replaces it
// in place; a new id is tried before the built-ins, so a user can refine
// what a built-in catches. disabled: true removes a rule.
func Load(noBuiltin bool, userFiles ...string) (*Set, error) {
	var base []*Rule
	if !noBuiltin {
		var err error
		if base, err = LoadFS(Builtin()); err != nil {
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

// LoadFS reads every *.yaml file of fsys, in name order. The files are
// parsed at the same time, on every core.
func LoadFS(fsys fs.FS) ([]*Rule, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	type parsed struct {
		rules []*Rule
		err   error
	}
	files := make([]parsed, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				files[i].err = err
				return
			}
			files[i].rules, files[i].err = parseFile(path.Base(name), data)
		})
	}
	wg.Wait()
	var out []*Rule
	ids := map[string]string{}
	for _, f := range files {
		if f.err != nil {
			return nil, f.err
		}
		rs := f.rules
		for _, r := range rs {
			if prev, dup := ids[r.ID]; dup {
				return nil, fmt.Errorf("%s: rule %q already defined at %s", r.Source, r.ID, prev)
			}
			ids[r.ID] = r.Source
		}
		out = append(out, rs...)
	}
	return out, nil
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
