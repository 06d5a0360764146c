package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// followKept raises the soft limit to twice a heap kept above
// memoryLimit, and does not lower it when the heap is let go.
func TestFollowKeptRaisesTheLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() { followKept(tick); close(done) }()

	step := func() int64 {
		runtime.GC()
		tick <- time.Now()
		tick <- time.Now() // the first tick has been handled once the second is taken
		return debug.SetMemoryLimit(-1)
	}
	if got := step(); got != memoryLimit {
		t.Errorf("limit %d with a small heap, want %d", got, memoryLimit)
	}
	kept := make([][]byte, 0, 128)
	for range 128 {
		kept = append(kept, make([]byte, 1<<20)) // 128 MiB kept
	}
	raised := step()
	if raised < keptFactor*128<<20 || raised > keptFactor*160<<20 {
		t.Errorf("limit %d MiB with 128 MiB kept, want about %d MiB", raised>>20, keptFactor*128)
	}
	runtime.KeepAlive(kept)
	kept = nil
	if got := step(); got != raised {
		t.Errorf("limit %d MiB once the heap was let go, want it kept at %d MiB", got>>20, raised>>20)
	}
	close(tick)
	<-done
}
