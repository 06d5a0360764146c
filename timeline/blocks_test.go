package timeline

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/source"
)

// smallPoisonedParts cuts files into small parts on two cores and
// poisons the blocks taken back, until the test ends.
func smallPoisonedParts(t *testing.T) {
	procs, size, poison := runtime.GOMAXPROCS(2), partSize, poisonBlocks
	partSize, poisonBlocks = 8<<10, true
	t.Cleanup(func() { runtime.GOMAXPROCS(procs); partSize, poisonBlocks = size, poison })
}

// TestMergeReusingBlocks merges large inputs, plain and gzipped, while
// the caller keeps the text of every record without copying it until
// release, as the incident engine keeps an incident's last record. The
// blocks taken back are overwritten at once (poisonBlocks), so text
// still used after its block went back would show. With the copies made
// in release the records are those of MergeWith; without them, the kept
// text changes, which says the blocks are indeed read into again.
func TestMergeReusingBlocks(t *testing.T) {
	smallPoisonedParts(t)

	var b strings.Builder
	for i := range 20000 {
		b.WriteString(nginxLine(fmt.Sprintf("%02d:%02d:%02d", 10+i/3600, i/60%60, i%60), fmt.Sprintf("connect() failed (111: Connection refused) while connecting to upstream %d", i)))
		if i%50 == 0 {
			b.WriteString("PHP Stack trace:\nPHP   1. {main}() /var/www/a.php:0\n")
		}
	}
	log := b.String()
	for _, tt := range []struct {
		name  string
		procs int
	}{
		{"error.log", 2},
		{"error.log.gz", 2},
		// One core parses the parts one after the other, into blocks
		// read into again all the same.
		{"error.log", 1},
		{"error.log.gz", 1},
	} {
		runtime.GOMAXPROCS(tt.procs)
		name := tt.name
		data := []byte(log)
		if strings.HasSuffix(name, ".gz") {
			data = gzipped(t, log)
		}
		path := writeFile(t, name, data)
		in := []Input{{Name: path, Open: func() (io.ReadCloser, error) { return source.Open(path, nil) }}}

		var want []string
		MergeWith(t.Context(), in, nil, func(e *parser.Entry, _ *struct{}) { want = append(want, strings.Clone(e.Raw)) })
		if len(want) < 20000 {
			t.Fatalf("%s: %d records", name, len(want))
		}

		// merge keeps every record's text as it is given and, when own
		// is set, copies what it kept when release is called.
		merge := func(own bool) (kept []string, releases int) {
			copied := 0
			release := func() {
				releases++
				if own {
					for ; copied < len(kept); copied++ {
						kept[copied] = strings.Clone(kept[copied])
					}
				}
			}
			res := MergeReusing(t.Context(), in, each(func(*parser.Entry, *struct{}) {}), func(e *parser.Entry, _ *struct{}) { kept = append(kept, e.Raw) }, release)
			if res[0].Err != nil {
				t.Fatal(res[0].Err)
			}
			return kept, releases
		}
		got, releases := merge(true)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: records kept and copied at release (-want +got):\n%s", name, diff)
		}
		// Parts are about partSize long; the pool calls release once for
		// the blocks of releaseParts parts.
		if min, max := len(log)/int(partSize)/releaseParts/2, len(log)/int(partSize)/releaseParts+1; releases < min || releases > max {
			t.Errorf("%s on %d cores: %d releases, want %d to %d", name, tt.procs, releases, min, max)
		}
		got, _ = merge(false)
		changed := 0
		for i := range got {
			if got[i] != want[i] {
				changed++
			}
		}
		if changed < len(want)/2 {
			t.Errorf("%s on %d cores: %d of %d records kept without a copy changed; the blocks are not reused", name, tt.procs, changed, len(want))
		}
	}
}

// A merge without release lends no blocks: what the caller keeps never
// changes, as MergeWith promises.
func TestMergeWithoutReleaseKeepsText(t *testing.T) {
	smallPoisonedParts(t)
	var b strings.Builder
	for i := range 5000 {
		b.WriteString(nginxLine(fmt.Sprintf("10:%02d:%02d", i/60%60, i%60), fmt.Sprintf("upstream timed out %d", i)))
	}
	path := writeFile(t, "error.log", []byte(b.String()))
	in := []Input{{Name: path, Open: func() (io.ReadCloser, error) { return source.Open(path, nil) }}}
	var kept []string
	MergeReusing(t.Context(), in, each(func(*parser.Entry, *struct{}) {}), func(e *parser.Entry, _ *struct{}) { kept = append(kept, e.Raw) }, nil)
	want := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}
