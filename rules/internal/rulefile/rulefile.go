// Package rulefile decodes rule files: the YAML layout of docs/rules.md,
// with the line each rule and example starts at, and nothing checked
// beyond the keys and their types. Package rules validates and compiles
// what it yields.
//
// It is a package of its own so that the generator of the pre-decoded
// built-in files (rules/internal/genbuiltin) decodes them with the very
// code that decodes user files, without depending on the package it
// generates for.
package rulefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is one decoded rule file.
type File struct {
	Name  string `yaml:"-"` // as given to Decode, e.g. "nginx.yaml"
	Rules []Rule `yaml:"rules"`
}

// Rule is one rule as written; see docs/rules.md for the keys.
type Rule struct {
	LineNo      int       `yaml:"-"` // where the rule starts; 0 if unknown
	ID          string    `yaml:"id"`
	Disabled    bool      `yaml:"disabled"`
	Servers     []string  `yaml:"servers"`
	Levels      []string  `yaml:"levels"`
	Errno       []int     `yaml:"errno"`
	Anchor      string    `yaml:"anchor"`
	Pattern     string    `yaml:"pattern"`
	Severity    string    `yaml:"severity"`
	Category    string    `yaml:"category"`
	Role        string    `yaml:"role"`
	HTTPStatus  int       `yaml:"http_status"`
	Title       string    `yaml:"title"`
	Cause       string    `yaml:"cause"`
	Remediation []string  `yaml:"remediation"`
	Diagnostics []string  `yaml:"diagnostics"`
	Subject     Subject   `yaml:"subject"`
	Generic     bool      `yaml:"generic"`
	Group       string    `yaml:"group"`
	Marker      string    `yaml:"marker"`
	Explains    []string  `yaml:"explains"`
	Examples    []Example `yaml:"examples"`
}

// Subject is a rule's subject: its kind and template.
type Subject struct {
	Kind  string `yaml:"kind"`
	Value string `yaml:"value"`
}

// Example is a record a rule must match, with what it must yield.
type Example struct {
	LineNo   int               `yaml:"-"` // where the example starts in the file
	Line     string            `yaml:"line"`
	Captures map[string]string `yaml:"captures"`
	Subject  *string           `yaml:"subject"` // nil: not asserted
}

// Error is a problem in the YAML of the rule file File, at Line when it
// is known (else 0).
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Decode reads a rule file strictly: an unknown key or a value of the
// wrong type is an *Error. An empty file holds no rules.
func Decode(name string, data []byte) (File, error) {
	// A second pass over the node tree gives each rule and example its
	// line, for errors and for `rules show`. It runs alongside the
	// decoding: YAML is slow to read.
	var doc yaml.Node
	docErr := make(chan error, 1)
	go func() { docErr <- yaml.Unmarshal(data, &doc) }()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	f := File{Name: name}
	if err := dec.Decode(&f); err != nil {
		<-docErr
		if errors.Is(err, io.EOF) {
			return File{Name: name}, nil
		}
		return File{}, yamlError(name, err)
	}
	if err := <-docErr; err != nil {
		return File{}, yamlError(name, err)
	}
	ruleNodes := seqUnder(&doc, "rules")
	for i := range f.Rules {
		r := &f.Rules[i]
		var exNodes []*yaml.Node
		if i < len(ruleNodes) {
			r.LineNo = ruleNodes[i].Line
			exNodes = seqUnder(ruleNodes[i], "examples")
		}
		for j := range r.Examples {
			r.Examples[j].LineNo = r.LineNo
			if j < len(exNodes) {
				r.Examples[j].LineNo = exNodes[j].Line
			}
		}
	}
	return f, nil
}

// DecodeFS decodes every *.yaml file of fsys, in name order. A file that
// does not decode stops it with Decode's error.
func DecodeFS(fsys fs.FS) ([]File, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	files := make([]File, 0, len(names))
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		f, err := Decode(path.Base(name), data)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

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
