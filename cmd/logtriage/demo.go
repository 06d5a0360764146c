package main

import (
	"fmt"

	"github.com/logtriage/logtriage/sample"
)

type demoCmd struct {
	reportFlags
}

func (c *demoCmd) Help() string {
	return `Analyzes logs compiled into logtriage, written by real nginx 1.22 and
php-fpm 8.2 servers during an outage: two php-fpm pools run out of children
one after the other (nginx answers 502 and 504), then long requests are
killed by request_terminate_timeout. The report is what 'logtriage analyze'
prints for your own logs. The demo exits 0; analyze exits 1 when it finds
incidents at or above --fail-on.

Examples:
  logtriage demo
  logtriage demo --format markdown`
}

func (c *demoCmd) Run(g *Globals, e *env) error {
	o, err := c.options(g)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, "logtriage: analyzing the embedded demo logs (nginx + php-fpm); run 'logtriage analyze FILE...' for yours")
	ins := fsInputs(sample.Demo(), "demo/", sample.DemoNames(), o)
	// The demo shows a report; it checks nothing, so it exits 0.
	_, err = c.finish(g, e, ins, o)
	return err
}
