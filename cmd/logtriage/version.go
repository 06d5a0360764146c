package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	_, err := fmt.Fprintf(e.stdout, "logtriage %s %s/%s %s\n", v, runtime.GOOS, runtime.GOARCH, runtime.Version())
	return err
}
