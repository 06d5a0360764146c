// Command gen writes a day of realistic nginx and php-fpm error logs for
// logtriage's end-to-end benchmark: DIR/error.log (exactly -lines lines),
// DIR/error.log.gz (the same bytes, gzipped), DIR/php-fpm.log and
// DIR/php-fpm-slow.log. The same flags always give the same bytes.
//
//	go run ./bench/gen -lines 1000000 -out bench/data
package main

import (
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/logtriage/logtriage/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lines := fs.Int("lines", 1_000_000, "physical lines of error.log (1 M lines is about 300 MB)")
	out := fs.String("out", "", "directory to write into (created if missing)")
	seed := fs.Uint64("seed", 1, "seed of the PCG generator")
	day := fs.String("day", bench.DefaultDay.Format(time.DateOnly), "the day the logs cover")
	gz := fs.Bool("gzip", true, "also write error.log.gz")
	quiet := fs.Bool("q", false, "do not print what was written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("usage: gen [-lines N] [-seed S] [-day YYYY-MM-DD] [-gzip=false] -out DIR")
	}
	if *lines < 1 {
		return errors.New("-lines must be at least 1")
	}
	d, err := time.Parse(time.DateOnly, *day)
	if err != nil {
		return fmt.Errorf("-day: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	start := time.Now()
	st, err := write(*out, bench.Config{Lines: *lines, Seed: *seed, Day: d}, *gz)
	if err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(stderr, "gen: %s/error.log %d lines %.1f MB, php-fpm.log %d lines, php-fpm-slow.log %d lines in %.1fs\n",
			*out, st.NginxLines, float64(st.NginxBytes)/1e6, st.FPMLines, st.SlowLines, time.Since(start).Seconds())
	}
	return nil
}

// write generates the files. The gzip copy is compressed in a goroutine
// while the generator runs, so it costs little more than the larger of
// the two.
func write(dir string, cfg bench.Config, withGz bool) (bench.Stats, error) {
	files := map[string]*os.File{}
	for _, name := range []string{"error.log", "php-fpm.log", "php-fpm-slow.log", "error.log.gz"} {
		if name == "error.log.gz" && !withGz {
			os.Remove(filepath.Join(dir, name)) // never leave a stale copy
			continue
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return bench.Stats{}, err
		}
		defer f.Close()
		files[name] = f
	}
	var nginx io.Writer = files["error.log"]
	var zw *chunkWriter
	if withGz {
		zw = newChunkWriter(files["error.log.gz"])
		nginx = io.MultiWriter(files["error.log"], zw)
	}
	st, err := bench.Generate(cfg, nginx, files["php-fpm.log"], files["php-fpm-slow.log"])
	if zw != nil {
		if zerr := zw.Close(); err == nil {
			err = zerr
		}
	}
	if err != nil {
		return st, err
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			return st, err
		}
	}
	return st, nil
}

// chunkWriter hands copies of what it is given to a goroutine that
// gzips them, through a small channel so that the generator cannot run
// far ahead of the compressor.
type chunkWriter struct {
	ch   chan []byte
	free chan []byte
	done chan error
}

func newChunkWriter(w io.Writer) *chunkWriter {
	c := &chunkWriter{ch: make(chan []byte, 4), free: make(chan []byte, 6), done: make(chan error, 1)}
	go func() {
		zw := gzip.NewWriter(w) // default level, like logrotate's gzip -6
		var err error
		for b := range c.ch {
			if err == nil {
				_, err = zw.Write(b)
			}
			select {
			case c.free <- b[:0]:
			default:
			}
		}
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		c.done <- err
	}()
	return c
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	var b []byte
	select {
	case b = <-c.free:
	default:
	}
	c.ch <- append(b, p...)
	return len(p), nil
}

// Close waits for the compressor and returns its error.
func (c *chunkWriter) Close() error {
	close(c.ch)
	return <-c.done
}
