package parser

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logtriage/logtriage/bench"
)

// benchFile parses a corpus file repeatedly and reports ns/line and
// allocs/line (the latter from b.ReportAllocs divided by lines).
func benchFile(b *testing.B, scenario, file string) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", scenario, file))
	if err != nil {
		b.Fatal(err)
	}
	benchData(b, data)
}

func benchData(b *testing.B, data []byte) {
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var sink int
	emit := func(e *Entry) { sink += len(e.Message) }
	b.ResetTimer()
	for b.Loop() {
		if _, err := Scan(bytes.NewReader(data), Options{Location: time.UTC}, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := float64(b.N) * float64(lines)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/line")
	allocs := testing.AllocsPerRun(1, func() { Scan(bytes.NewReader(data), Options{Location: time.UTC}, emit) })
	b.ReportMetric(allocs/float64(lines), "allocs/line")
	_ = sink
}

func BenchmarkParseNginx(b *testing.B) { benchFile(b, "nginx-04-fpm-saturated", "nginx-error.log") }
func BenchmarkParseApache24(b *testing.B) {
	benchFile(b, "apache-01-proxy-refused", "apache-error.log")
}
func BenchmarkParseFPM(b *testing.B)     { benchFile(b, "nginx-04-fpm-saturated", "php-fpm.log") }
func BenchmarkParseFPMSlow(b *testing.B) { benchFile(b, "nginx-04-fpm-saturated", "php-fpm-slow.log") }

// Apache 2.2 has no corpus file; a constructed log of its two shapes.
func BenchmarkParseApache22(b *testing.B) {
	lines := []byte("[Thu Dec 27 12:34:38 2012] [error] [client 96.47.224.42] (70007)The timeout specified has expired: proxy: error reading status line from remote server localhost\n" +
		"[Wed May 28 17:00:35 2014] [error] (111)Connection refused: proxy: HTTP: attempt to connect to 127.1.244.129:8080 (127.1.244.129) failed\n")
	benchData(b, bytes.Repeat(lines, 500))
}

// The nginx log of the end-to-end benchmark: the mix of record shapes
// analyze sees, context fields and stack traces included.
func BenchmarkParseNginxGenerated(b *testing.B) {
	var nginx bytes.Buffer
	if _, err := bench.Generate(bench.Config{Lines: 20000, Seed: 1}, &nginx, io.Discard, io.Discard); err != nil {
		b.Fatal(err)
	}
	benchData(b, nginx.Bytes())
}
