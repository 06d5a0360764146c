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
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

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
	files, err := rulefile.DecodeFS(os.DirFS(dir))
	if le, ok := errors.AsType[*rulefile.Error](err); ok {
		return fmt.Errorf("%s: %w", filepath.Join(dir, le.File), err)
	}
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no *.yaml files in %s", dir)
	}
	src, err := rulefile.GoSource(pkg, name, filepath.ToSlash(filepath.Join(dir, "*.yaml")), files)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
