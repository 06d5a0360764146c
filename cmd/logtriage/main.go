// Command logtriage reads nginx, Apache httpd and php-fpm error logs,
// recognises the records that mean something is broken, and says what to
// check and what to change.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
)

func main() {
	limitMemory()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// memoryLimit is the soft limit on the memory the Go runtime uses, unless
// GOMEMLIMIT sets another. What logtriage keeps is small (the incidents,
// a few batches of records per input), but reading a log makes garbage at
// hundreds of MB/s, and the collector's default pacing (GOGC=100) lets the
// heap grow to twice what is kept before collecting: on a cron run over a
// day of logs that doubled the process's size for nothing. Under the limit
// the collector runs more often once the heap nears it; above it (more
// incidents than fit) the process still works, the runtime caps the time
// it spends collecting at half the CPU.
const memoryLimit = 48 << 20

// gcPercent is the collector's pacing, unless GOGC sets another. With the
// limit capping the heap, pacing can be looser than the default: a
// collection when the heap is three times what is kept, not twice. On a
// 280 MB log that is 24 collections instead of 44 and a tenth less CPU,
// for 3 MB more at the peak.
const gcPercent = 200

func limitMemory() {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(memoryLimit)
		if _, ok := os.LookupEnv("GOGC"); !ok {
			debug.SetGCPercent(gcPercent)
		}
		onEveryGC((&keptLimit{limit: memoryLimit}).update)
	}
}

// keptLimit raises the soft limit to keptFactor times the heap the last
// collection kept, once that is above the limit. What is kept is
// bounded by the incidents open at once (finished ones go to a spool),
// but thousands of subjects in trouble at the same time can keep more
// than the limit, and under a limit below what is kept the collector
// runs without pause (a run took three times as long). The limit never
// falls: what was kept is needed.
type keptLimit struct {
	limit int64
	live  [1]metrics.Sample
}

func (k *keptLimit) update() {
	k.live[0].Name = "/gc/heap/live:bytes"
	metrics.Read(k.live[:])
	if k.live[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if want := int64(k.live[0].Value.Uint64()) * keptFactor; want > k.limit {
		k.limit = want
		debug.SetMemoryLimit(want)
	}
}

// onEveryGC calls f after every collection, on the finalizer goroutine:
// an object no one holds is collected each time, and its finalizer sets
// itself again. An idle process collects nothing and so costs nothing.
func onEveryGC(f func()) {
	type sentinel struct{ _ [32]byte } // no tiny allocation, whose finalizer may never run
	var again func(*sentinel)
	again = func(s *sentinel) {
		f()
		runtime.SetFinalizer(s, again)
	}
	runtime.SetFinalizer(new(sentinel), again)
}

// keptFactor is how far the heap may grow past what it keeps once that
// has outgrown half of memoryLimit: the default pacing's (GOGC=100).
const keptFactor = 2
