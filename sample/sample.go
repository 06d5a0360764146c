// Package sample holds real error logs, written by nginx 1.22, Apache 2.4
// and php-fpm 8.2 during injected faults, compiled into the binary so that
// a newcomer can see logtriage work with one command and no files.
package sample

import (
	"embed"
	"io/fs"
)

//go:embed logs/*.log demo/*.log
var logs embed.FS

// Logs returns the sample logs; their names are "sample/<file>".
func Logs() fs.FS {
	sub, err := fs.Sub(logs, "logs")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

// Names lists the sample log files in the order they are best read.
func Names() []string {
	return []string{"nginx-error.log", "php-fpm.log", "php-fpm-slow.log", "apache-error.log"}
}

// Demo returns the logs of a real mixed outage for `logtriage demo`: nginx
// in front of two php-fpm pools that run out of children one after the
// other, then requests killed by request_terminate_timeout. Names are
// "demo/<file>".
func Demo() fs.FS {
	sub, err := fs.Sub(logs, "demo")
	if err != nil {
		panic(err)
	}
	return sub
}

// DemoNames lists the demo log files.
func DemoNames() []string {
	return []string{"nginx-error.log", "php-fpm.log", "php-fpm-slow.log"}
}
