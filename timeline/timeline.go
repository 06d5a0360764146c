// Package timeline merges the records of several logs into one stream
// ordered by time.
//
// An outage shows up in several logs at once: nginx says the upstream
// timed out, php-fpm says its pool reached pm.max_children. Reading them
// as one timeline puts cause and effect next to each other. Each log is
// parsed in its own goroutine (a large file, plain or compressed, in
// parts, on every core), the per-record work that needs no order (rule
// matching) is spread over the cores, and the records are merged as they
// come, so memory stays bounded by a few batches of records per log, not
// by the size of the logs.
package timeline

import (
	"context"
	"io"
	"runtime"
	"sync"

	"github.com/logtriage/logtriage/parser"
)

// Records cross from an input's goroutine to the merge in batches:
// handing over a channel value costs about as much as parsing a short
// line, so one per record would keep the two goroutines busy with each
// other. Batches are recycled, so steady state allocates none.
const (
	// batchLen is the most records in a batch. A batch is also handed
	// over, however few records it holds, before its input reads more, so
	// that a slow input (a pipe, a terminal) holds back nothing it has.
	batchLen = 64
	// queueLen is how many batches each input may have waiting for the
	// merge. Small, so that a slow consumer slows the parsers down instead
	// of letting them fill memory; two, so that the parser can fill one
	// while the merge drains another.
	queueLen = 2
)

// Input is one log to merge.
type Input struct {
	// Name names the input in its Result and, when Options.File is empty,
	// in its entries.
	Name string
	// Open opens the log; it is called once, from the input's goroutine.
	// Its errors are reported as they are, so they should name the input
	// (source.Open's do). The reader is closed when the input is done.
	// A reader that can also be read at any offset and tell its size (a
	// source.Sectioned) is, when large, cut into parts at lines that start
	// records and parsed on several cores; so is a compressed file (a
	// source.Inflated), read part by part ahead of the parsing. Their
	// records are the same.
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
	return MergeWith(ctx, inputs, nil, func(e *parser.Entry, _ *struct{}) { emit(e) })
}

// MergeWith is Merge with a step of work per record that runs before the
// merge, off the calling goroutine: a prepare function is called once for
// each record, with a zero *T to fill in, and emit then gets the record
// with that value. Rule matching belongs there, the incident engine
// (which needs the records in order) in emit.
//
// The step runs in a pool of goroutines, one per CPU, on several records
// at once, in no particular order. Each goroutine calls newPrepare once
// and runs the prepare function it returns on its own records only, so
// that function may keep scratch space (a matcher's cache) without a
// lock; it must not keep e or v. A nil newPrepare leaves every value
// zero. The *T passed to emit is valid only during the call, like the
// *Entry.
func MergeWith[T any](ctx context.Context, inputs []Input, newPrepare func() func(e *parser.Entry, v *T), emit func(e *parser.Entry, v *T)) []Result {
	return MergeReusing(ctx, inputs, newPrepare, emit, nil)
}

// MergeReusing is MergeWith for a caller that keeps no record's text
// beyond release: the blocks of memory a large input is read into (see
// parser.Options.Block) are then read into again once their records
// are merged, instead of being left to the garbage collector. The merge
// calls release, on its own goroutine, before it hands blocks back: the
// strings of every record emitted before the call may change after it.
// A caller that keeps a record's text past the record copies it there.
// A nil release is MergeWith: records' strings never change.
func MergeReusing[T any](ctx context.Context, inputs []Input, newPrepare func() func(e *parser.Entry, v *T), emit func(e *parser.Entry, v *T), release func()) []Result {
	results := make([]Result, len(inputs))
	streams := make([]*stream[T], len(inputs))

	ctx, cancel := context.WithCancel(ctx)
	var work chan *batch[T]
	var producers, workers sync.WaitGroup
	// Stop and wait for every goroutine whatever happens, also when emit
	// panics, so that none is left blocked on a channel.
	defer func() {
		cancel()
		producers.Wait()
		if work != nil {
			close(work)
			workers.Wait()
		}
	}()
	if newPrepare != nil && len(inputs) > 0 {
		n := runtime.GOMAXPROCS(0)
		work = make(chan *batch[T], n)
		for range n {
			workers.Go(func() {
				prepare := newPrepare()
				for b := range work {
					for i := range b.entries {
						prepare(&b.entries[i], &b.values[i])
					}
					b.prepared <- struct{}{}
				}
			})
		}
	}
	cutting := make(chan struct{}, splitInputs) // a token per input being cut
	var blocks *blockPool
	if release != nil {
		blocks = newBlockPool(release)
	}
	for i, in := range inputs {
		results[i].Name = in.Name
		parts, free := make(chan queue[T], partsAhead()), make(chan *batch[T], freeLen())
		streams[i] = &stream[T]{index: i, parts: parts, free: free, blocks: blocks}
		producers.Go(func() { runInput(ctx, in, &results[i], parts, free, work, cutting, blocks) })
	}
	merge(ctx, streams, emit)
	return results
}

// batch is records of one input on their way to the merge.
type batch[T any] struct {
	entries []parser.Entry
	values  []T // values[i] belongs to entries[i]
	// prepared receives once when the values are ready; nil when there is
	// no prepare step.
	prepared chan struct{}
}

// producer parses one input into batches. Its methods run on the input's
// goroutine only.
type producer[T any] struct {
	q    chan<- *batch[T]
	free <-chan *batch[T] // shared by the input's parts
	work chan<- *batch[T] // nil: no prepare step
	done <-chan struct{}

	cur     *batch[T] // being filled
	stopped bool      // ctx is done: drop records
}

// newBatch returns an empty batch, a recycled one if there is one. Its
// values are cleared here, on the input's goroutine, not by the merge
// that recycled it: the merge is the one goroutine all records pass.
func newBatch[T any](free <-chan *batch[T], prepared bool) *batch[T] {
	select {
	case b := <-free:
		clear(b.values)
		return b
	default:
		b := &batch[T]{entries: make([]parser.Entry, 0, batchLen), values: make([]T, batchLen)}
		if prepared {
			b.prepared = make(chan struct{}, 1)
		}
		return b
	}
}

// runInput parses one input into parts, handed to the merge in order on
// parts, which it closes when done. It writes only its own Result, which
// Merge reads after the goroutine has ended. A large file, plain or
// compressed, is split into parts (parsed on several cores where there
// are several) when a token of cutting is free (see splitInputs);
// anything else is one part.
func runInput[T any](ctx context.Context, in Input, res *Result, parts chan<- queue[T], free chan *batch[T], work chan<- *batch[T], cutting chan struct{}, blocks *blockPool) {
	defer close(parts)
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
	if worthCutting(rc) && tryAcquire(cutting) {
		s := newSplitter(rc, opt)
		if s != nil {
			s.blocks = blocks
			res.Stats, res.Err = split(ctx, s, parts, free, work)
		}
		<-cutting
		if s != nil {
			return
		}
	}
	q := make(chan *batch[T], queueLen)
	parts <- queue[T]{batches: q} // parts has room for one
	defer close(q)
	p := &producer[T]{q: q, free: free, work: work, done: ctx.Done()}
	opt.Entry = p.next
	res.Stats, res.Err = parser.Scan(&ctxReader{ctx: ctx, r: rc, before: p.send}, opt, p.add)
	p.send()
}

// tryAcquire takes a token from sem if one is free.
func tryAcquire(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// next gives the parser the place of the next record (see
// parser.Options.Entry).
func (p *producer[T]) next() *parser.Entry {
	return nextEntry(&p.cur, p.free, p.work != nil)
}

// add takes the record the parser built where next said and hands the
// batch over once it is full.
func (p *producer[T]) add(e *parser.Entry) {
	if p.stopped {
		// The records still in the parser's buffer are dropped; the next
		// read returns the context's error and ends Scan.
		dropLast(p.cur)
		return
	}
	if len(p.cur.entries) == batchLen {
		p.send()
	}
}

// nextEntry returns the place of a batch's next record: the end of *cur,
// a new batch if there is none.
func nextEntry[T any](cur **batch[T], free <-chan *batch[T], prepared bool) *parser.Entry {
	if *cur == nil {
		*cur = newBatch(free, prepared)
	}
	b := *cur
	n := len(b.entries)
	b.entries = b.entries[:n+1]
	return &b.entries[n]
}

// dropLast takes back the place of a batch's last record, which is
// dropped: it is the next record's.
func dropLast[T any](b *batch[T]) {
	b.entries = b.entries[:len(b.entries)-1]
}

// send hands the batch being filled, if any, to the prepare pool and, in
// order, to the merge. The merge waits for the batch to be prepared.
func (p *producer[T]) send() {
	b := p.cur
	if b == nil || p.stopped {
		return
	}
	p.cur = nil
	p.stopped = !handOver(b, p.work, p.q, p.done)
}

// handOver gives b to the prepare pool, when there is one, and to the
// merge's queue q, in that order: the merge waits for the batch to be
// prepared. It reports false when done closed first.
func handOver[T any](b *batch[T], work, q chan<- *batch[T], done <-chan struct{}) bool {
	if work != nil {
		select {
		case work <- b:
		case <-done:
			return false
		}
	}
	select {
	case q <- b:
		return true
	case <-done:
		return false
	}
}

// ctxReader ends the read loop once ctx is done. Before each read it
// calls before, when set: a producer hands over the records parsed so
// far, since the read may block. A Read already blocked is not
// interrupted.
type ctxReader struct {
	ctx    context.Context
	r      io.Reader
	before func()
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if c.before != nil {
		c.before()
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// queue is one part of an input as the merge takes it: its batches, in
// order, and the text blocks its records lie in when they were lent.
type queue[T any] struct {
	batches <-chan *batch[T]
	// blocks is complete once batches is closed; nil when the part's
	// blocks were not lent.
	blocks *[][]byte
}

// stream is one input as the merge sees it: its parts, each a queue of
// batches, and the record at its head.
type stream[T any] struct {
	index int
	parts <-chan queue[T]
	q     queue[T] // the current part's; no batches between parts
	free  chan<- *batch[T]
	// blocks takes back the text blocks of a part once all its records
	// are emitted; nil: they are not lent.
	blocks *blockPool
	b      *batch[T] // holds the head, b.entries[i]; nil before the first
	i      int
	// sec and nsec are the instant the head sorts by, as two integers
	// that compare faster than a time.Time: its time, or for a head
	// without time that of the record before it.
	sec  int64
	nsec int32
}

// advance moves the head to the next record. It reports false when the
// input is exhausted or ctx is done.
func (s *stream[T]) advance(done <-chan struct{}) bool {
	if s.b != nil {
		s.i++
	}
	if s.b == nil || s.i == len(s.b.entries) {
		if s.b != nil {
			s.recycle(s.b)
			s.b = nil
		}
		var b *batch[T]
		for b == nil {
			if s.q.batches == nil {
				select {
				case q, ok := <-s.parts:
					if !ok {
						return false
					}
					s.q = q
				case <-done:
					return false
				}
			}
			select {
			case next, ok := <-s.q.batches:
				if !ok {
					// Every record of the part is emitted, unless ctx is
					// done: then a batch of the part may have been dropped
					// between the prepare pool and the queue, and still be
					// read there, so its blocks are not taken back.
					select {
					case <-done:
						return false
					default:
					}
					if s.q.blocks != nil {
						s.blocks.put(*s.q.blocks)
					}
					s.q = queue[T]{}
					continue
				}
				b = next
			case <-done:
				return false
			}
		}
		if b.prepared != nil {
			select {
			case <-b.prepared:
			case <-done:
				return false
			}
		}
		s.b, s.i = b, 0
	}
	if t := s.b.entries[s.i].Time; !t.IsZero() {
		s.sec, s.nsec = t.Unix(), int32(t.Nanosecond())
	}
	return true
}

// recycle gives a batch the merge is done with back to its producer,
// emptied. Its values are cleared (prepare expects zero values), its
// entries only cut to none: they are overwritten as the batch fills
// again, and clearing them cost a sixth of the merge's time. What stale
// entries keep alive, the text blocks of at most batchLen records per
// batch, is bounded by the number of batches.
func (s *stream[T]) recycle(b *batch[T]) {
	b.entries = b.entries[:0]
	select {
	case s.free <- b:
	default: // not reached: free has room for every batch of the input
	}
}

// merge emits the heads of streams in order until all are exhausted or
// ctx is done. The heap holds one head per input, so an input's records
// can only leave in their own order.
func merge[T any](ctx context.Context, streams []*stream[T], emit func(*parser.Entry, *T)) {
	done := ctx.Done()
	h := make(heads[T], 0, len(streams))
	for _, s := range streams {
		if s.advance(done) {
			h = append(h, s)
		}
	}
	h.init()
	for len(h) > 0 {
		// advance may pick a ready batch over a cancellation; check
		// first so that nothing is emitted after ctx is done.
		select {
		case <-done:
			return
		default:
		}
		s := h[0]
		emit(&s.b.entries[s.i], &s.b.values[s.i])
		if s.advance(done) {
			h.down(0)
		} else {
			h.popTop()
		}
	}
}

// heads is a min-heap of streams by head time, then input index.
type heads[T any] []*stream[T]

// less orders the heads by time, then by input: of records of one time,
// those of the earlier input come first.
func (h heads[T]) less(i, j int) bool {
	a, b := h[i], h[j]
	if a.sec != b.sec {
		return a.sec < b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec < b.nsec
	}
	return a.index < b.index
}

// init makes h a min-heap.
func (h heads[T]) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// down moves h[i] down to its place. A heap of its own rather than
// container/heap: the merge calls it for every record, and the interface
// calls cost more than the comparisons.
func (h heads[T]) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// popTop removes h[0].
func (h *heads[T]) popTop() {
	old := *h
	n := len(old) - 1
	old[0], old[n] = old[n], nil
	*h = old[:n]
	h.down(0)
}
