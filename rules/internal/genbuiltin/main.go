// Command genbuiltin writes the built-in rule files, decoded, as Go
// source, so that logtriage does not decode YAML at every start. It runs
// from package rules' go:generate line:
//
//	go generate ./rules
//
// It decodes with the code that decodes user rule files
// (rules/internal/rulefile); package rules validates and compiles the
// result at run time just as it does a user file.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/logtriage/logtriage/rules/internal/rulefile"
)

func main() {
	dir := flag.String("dir", "builtin", "directory of the *.yaml rule files")
	out := flag.String("o", "builtin_gen.go", "Go file to write")
	pkg := flag.String("pkg", "rules", "package of the Go file")
	name := flag.String("var", "builtinFiles", "variable to declare")
	flag.Parse()
	if err := run(*dir, *out, *pkg, *name); err != nil {
		fmt.Fprintln(os.Stderr, "genbuiltin:", err)
		os.Exit(1)
	}
}

func run(dir, out, pkg, name string) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("no *.yaml files in %s", dir)
	}
	sort.Strings(paths)
	var files []rulefile.File
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := rulefile.Decode(filepath.Base(p), data)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		files = append(files, f)
	}
	src, err := rulefile.GoSource(pkg, name, filepath.ToSlash(filepath.Join(dir, "*.yaml")), files)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
