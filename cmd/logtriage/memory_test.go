package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// keptLimit raises the soft limit to twice a heap kept above
// memoryLimit, and does not lower it when the heap is let go.
func TestKeptLimitRaisesTheLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
	k := &keptLimit{limit: memoryLimit}
	step := func() int64 {
		runtime.GC()
		k.update()
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
}

// onEveryGC calls its function after each collection, again and again.
func TestOnEveryGC(t *testing.T) {
	calls := make(chan struct{}, 16)
	onEveryGC(func() {
		select {
		case calls <- struct{}{}:
		default:
		}
	})
	for i := range 3 {
		runtime.GC()
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("no call after collection %d", i+1)
		}
	}
}
