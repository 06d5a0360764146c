// Package timeline merges the records of several logs into one stream
// ordered by time.
//
// An outage shows up in several logs at once: nginx says the upstream
// timed out, php-fpm says its pool reached pm.max_children. Reading them
// as one timeline puts cause and effect next to each other. Each log is
// parsed in its own goroutine and the records are merged as they come, so
// memory stays bounded by a small queue per log, not by the size of the
// logs.
package timeline

import (
	"container/heap"
	"context"
	"io"
	"sync"
	"time"

	"github.com/logtriage/logtriage/parser"
)

// queueLen is how many parsed records each input may have waiting for the
// merge. Small, so that a slow consumer slows the parsers down instead of
// letting them fill memory; large enough that the goroutines do not hand
// over every record one at a time.
const queueLen = 256

// Input is one log to merge.
type Input struct {
	// Name names the input in its Result and, when Options.File is empty,
	// in its entries.
	Name string
	// Open opens the log; it is called once, from the input's goroutine.
	// Its errors are reported as they are, so they should name the input
	// (source.Open's do). The reader is closed when the input is done.
	Open func() (io.ReadCloser, error)
	// Options are passed to parser.Scan.
	Options parser.Options
}

// Result is what became of one input.
type Result struct {
	Name  string
	Stats parser.Stats // the parser's counts
	// Err is the error Open or a read returned, as it was returned; the
	// records read before a read error have been delivered. When the
	// merge was cancelled it may be the context's error.
	Err error
}

// Merge parses every input concurrently and calls emit for each record of
// all of them, from the calling goroutine, in time order. Records of equal
// time come in input order, then in their order within the input.
//
// An input's own order is never changed: a log whose clock went backwards
// or that has records without a time keeps its sequence. A record is
// released once its time is no later than the next record of every other
// input; a record without a time takes the time of the record before it
// in its input (records at the start of a log with no time come first).
// So a rotated set passed as several inputs, each in time order, is read
// back as one stream.
//
// The *Entry passed to emit is valid only during the call; copy the struct
// to keep it (its strings are immutable).
//
// Merge returns one Result per input, in input order, once every input is
// finished. An input that cannot be opened has Err set and contributes no
// records; the others go on. When ctx is cancelled Merge stops emitting
// and returns as soon as each input's goroutine has stopped: a goroutine
// notices between reads, so a Read that blocks (a terminal on stdin)
// delays the return until it comes back.
func Merge(ctx context.Context, inputs []Input, emit func(*parser.Entry)) []Result {
	results := make([]Result, len(inputs))
	queues := make([]<-chan parser.Entry, len(inputs))

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// Stop and wait for the producers whatever happens, also when emit
	// panics, so that none is left blocked on its queue.
	defer func() {
		cancel()
		wg.Wait()
	}()
	for i, in := range inputs {
		results[i].Name = in.Name
		q := make(chan parser.Entry, queueLen)
		queues[i] = q
		wg.Go(func() { produce(ctx, in, q, &results[i]) })
	}
	merge(ctx, queues, emit)
	return results
}

// produce parses one input into q and closes q when done. It writes only
// its own Result, which Merge reads after the goroutine has ended.
func produce(ctx context.Context, in Input, q chan<- parser.Entry, res *Result) {
	defer close(q)
	if err := ctx.Err(); err != nil {
		res.Err = err
		return
	}
	rc, err := in.Open()
	if err != nil {
		res.Err = err
		return
	}
	defer rc.Close()

	opt := in.Options
	if opt.File == "" {
		opt.File = in.Name
	}
	done := ctx.Done()
	stopped := false
	res.Stats, res.Err = parser.Scan(ctxReader{ctx, rc}, opt, func(e *parser.Entry) {
		if stopped {
			return
		}
		select {
		case q <- *e:
		case <-done:
			// The records still in the current buffer are dropped; the
			// next read returns the context's error and ends Scan.
			stopped = true
		}
	})
}

// ctxReader ends a read loop once its context is done. A Read already
// blocked is not interrupted.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// stream is one input's queue and the record at its head.
type stream struct {
	index int
	q     <-chan parser.Entry
	head  parser.Entry
	// at is the time the head sorts by: its own, or for a head without
	// time that of the record before it.
	at time.Time
}

// advance takes the next record into the head. It reports false when the
// input is exhausted or ctx is done.
func (s *stream) advance(done <-chan struct{}) bool {
	select {
	case e, ok := <-s.q:
		if !ok {
			return false
		}
		s.head = e
		if !e.Time.IsZero() {
			s.at = e.Time
		}
		return true
	case <-done:
		return false
	}
}

// merge emits the heads of queues in order until all are exhausted or ctx
// is done. The heap holds one head per input, so an input's records can
// only leave in their own order.
func merge(ctx context.Context, queues []<-chan parser.Entry, emit func(*parser.Entry)) {
	done := ctx.Done()
	h := make(heads, 0, len(queues))
	for i, q := range queues {
		s := &stream{index: i, q: q}
		if s.advance(done) {
			h = append(h, s)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		// advance may pick a ready record over a cancellation; check
		// first so that nothing is emitted after ctx is done.
		select {
		case <-done:
			return
		default:
		}
		s := h[0]
		emit(&s.head)
		if s.advance(done) {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
}

// heads is a min-heap of streams by head time, then input index.
type heads []*stream

func (h heads) Len() int { return len(h) }

func (h heads) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].index < h[j].index
}

func (h heads) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *heads) Push(x any) { *h = append(*h, x.(*stream)) }

func (h *heads) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}
