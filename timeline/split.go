package timeline

import (
	"bytes"
	"context"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/logtriage/logtriage/parser"
)

// A large plain file is cut into parts of about partSize bytes, each
// starting at a line that starts a record whatever came before it, and
// the parts are parsed on every core, a few ahead of the merge, which
// takes them in order. A part's records are not handed over before the
// part that comes before it is parsed to the end: only then are their
// line numbers, and the time of those that have none, known.
const (
	// partQueue is how many batches a part may have waiting: a whole
	// part of lines of 128 bytes or more, so that a part is parsed to
	// the end while the merge is still on the part before it. A part of
	// shorter lines waits for the merge, as an unsplit input does.
	partQueue = 32
	// cutSearch is how far past partSize a cut is looked for; a file with
	// no record start in that much is not cut any further.
	cutSearch = 4 << 20
	// probeLen is the window read to find a cut; a line longer than it is
	// never one.
	probeLen = 16 << 10
)

// partSize is the size parts are cut at: small enough that the parts in
// flight (those handed to the merge, and one being cut) hold little
// memory, large enough that cutting costs nothing next to parsing. A
// variable so that the tests can cut small files.
var partSize int64 = 256 << 10

// partsAhead is how many parts may wait for the merge besides the one it
// is on: enough for every core to parse one.
func partsAhead() int { return max(runtime.GOMAXPROCS(0)-1, 1) }

// freeLen is the room for recycled batches of one input: every batch of
// every part in flight.
func freeLen() int { return (partsAhead() + 2) * (partQueue + 1) }

// sectioned is a plain file that can be read at any offset (a
// source.Sectioned): stdin and compressed inputs are not.
type sectioned interface {
	io.ReaderAt
	Size() int64
}

// splitter cuts one file into parts.
type splitter struct {
	f      io.ReaderAt
	opt    parser.Options
	format parser.Format  // detected before the first cut
	probe  *parser.Parser // with format: tells the lines that start records
	// detected is the end of the line the format was detected on: no
	// cut comes before it.
	detected int64
	mu       sync.Mutex // guards what follows
	buf      []byte     // probeLen
	next     int64      // start of the next part; -1: none
	stopped  bool       // ctx was done before the last part was cut
	index    int        // of the next part
	prev     *tail      // of the last part handed over
}

// tail is what a part leaves to the parts after it, set once done is
// closed: the counts of the input up to its end, the time of its last
// record with one, and the error that ended the input, if any.
type tail struct {
	done  chan struct{}
	stats parser.Stats
	last  time.Time
	err   error
}

// newSplitter returns a splitter for r if it is a file worth cutting:
// sectioned, on a machine with more than one core, at least two parts
// long and with its format known from its first part.
func newSplitter(r io.Reader, opt parser.Options) *splitter {
	f, ok := r.(sectioned)
	if !ok || runtime.GOMAXPROCS(0) < 2 || f.Size() < 2*partSize {
		return nil
	}
	// The parsers of later parts start with the format the whole log's
	// parser has by then. Read lines of the first part until it is
	// detected, as Scan would; a cut comes after those lines.
	head := make([]byte, max(partSize, probeLen))
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	p := parser.New(opt)
	detected := 0
	for p.Format() == parser.FormatAuto {
		i := bytes.IndexByte(head[detected:], '\n')
		if i < 0 {
			return nil
		}
		p.Feed(parser.Line{Text: bytes.TrimSuffix(head[detected:detected+i], []byte("\r"))}, func(*parser.Entry) {})
		detected += i + 1
	}
	probe := parser.New(opt)
	probe.SetFormat(p.Format())
	done := make(chan struct{})
	close(done)
	return &splitter{f: f, opt: opt, format: p.Format(), probe: probe, buf: make([]byte, probeLen), detected: int64(detected), prev: &tail{done: done}}
}

// cut returns the first line start at or after off whose line starts a
// record, or -1 when there is none within cutSearch or before the end.
func (s *splitter) cut(off int64) int64 {
	// Read from the byte before off, to know whether a line starts at off.
	for pos := off - 1; pos < off+cutSearch; {
		n, err := s.f.ReadAt(s.buf, pos)
		w := s.buf[:n]
		i := bytes.IndexByte(w, '\n')
		if i < 0 {
			if err != nil {
				return -1
			}
			pos += int64(n)
			continue
		}
		start := i + 1
		for {
			j := bytes.IndexByte(w[start:], '\n')
			if j < 0 {
				break
			}
			if s.probe.StartsRecord(bytes.TrimSuffix(w[start:start+j], []byte("\r"))) {
				return pos + int64(start)
			}
			start += j + 1
		}
		if err != nil {
			return -1
		}
		if start-1 == 0 {
			// The line after w's first newline runs past w: go on from
			// its end, at the next newline found.
			pos += int64(n)
			continue
		}
		// Go on from the newline before the last line begun.
		pos += int64(start - 1)
	}
	return -1
}

// part is a stretch of the file and its queue of batches.
type part[T any] struct {
	start, end int64 // end -1: to the end of the file
	index      int
	q          chan *batch[T]
	prev, own  *tail
}

// split parses the file on every core, in parts handed to parts in
// order, and returns the input's counts and error.
func split[T any](ctx context.Context, s *splitter, parts chan<- chan *batch[T], free chan *batch[T], work chan<- *batch[T]) (parser.Stats, error) {
	// claim cuts the next part and hands its queue to the merge. It
	// reports false when there is none left or ctx is done.
	claim := func() (*part[T], bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.next < 0 {
			return nil, false
		}
		pt := &part[T]{start: s.next, index: s.index, q: make(chan *batch[T], partQueue), prev: s.prev, own: &tail{done: make(chan struct{})}}
		pt.end = s.cut(max(s.next+partSize, s.detected))
		select {
		case parts <- pt.q:
		case <-ctx.Done():
			s.next, s.stopped = -1, true
			return nil, false
		}
		s.next, s.index, s.prev = pt.end, s.index+1, pt.own
		return pt, true
	}
	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Go(func() {
			for {
				pt, ok := claim()
				if !ok {
					return
				}
				pp := &partProducer[T]{part: pt, free: free, work: work, done: ctx.Done()}
				pp.run(ctx, s)
			}
		})
	}
	workers.Wait()
	<-s.prev.done
	if s.stopped && s.prev.err == nil {
		// Parts were left uncut.
		return s.prev.stats, ctx.Err()
	}
	return s.prev.stats, s.prev.err
}

// partProducer parses one part into batches. Until the part before it is
// done, it holds them back (the merge would wait for them anyway).
type partProducer[T any] struct {
	*part[T]
	free <-chan *batch[T]
	work chan<- *batch[T] // nil: no prepare step
	done <-chan struct{}

	cur      *batch[T]
	held     []*batch[T]
	resolved bool      // the part before is done: base and carry are set
	base     int       // lines before the part
	carry    time.Time // time of the last record with one before the part
	last     time.Time // of the part's last record with one
	stopped  bool      // ctx is done or the input failed before: drop records
}

func (p *partProducer[T]) run(ctx context.Context, s *splitter) {
	defer close(p.q)
	n := int64(math.MaxInt64 - p.start)
	if p.end >= 0 {
		n = p.end - p.start
	}
	ps := parser.New(s.opt)
	if p.index > 0 {
		ps.SetFormat(s.format)
	}
	stats, err := ps.Scan(&ctxReader{ctx: ctx, r: io.NewSectionReader(s.f, p.start, n)}, p.add)
	p.flush()
	p.resolve()

	// Hand on the counts of the input so far.
	own := p.own
	defer close(own.done)
	select {
	case <-p.prev.done:
	case <-p.done:
		own.err = ctx.Err()
		return
	}
	prev := p.prev
	if prev.err != nil {
		own.stats, own.last, own.err = prev.stats, prev.last, prev.err
		return
	}
	own.stats = prev.stats
	own.stats.UnparsedSamples = slices.Clip(own.stats.UnparsedSamples)
	samples := s.opt.Samples
	if samples <= 0 {
		samples = 5 // the parser's default
	}
	own.stats.Add(stats, samples)
	own.last, own.err = prev.last, err
	if !p.last.IsZero() {
		own.last = p.last
	}
}

// add copies a record into the batch being filled.
func (p *partProducer[T]) add(e *parser.Entry) {
	if p.stopped {
		return
	}
	if p.cur == nil {
		p.cur = newBatch(p.free, p.work != nil)
	}
	p.cur.entries = append(p.cur.entries, *e)
	x := &p.cur.entries[len(p.cur.entries)-1]
	x.Offset += p.start
	if !x.Time.IsZero() {
		p.last = x.Time
	}
	if len(p.cur.entries) == batchLen {
		p.flush()
	}
}

// flush holds back or hands over the batch being filled.
func (p *partProducer[T]) flush() {
	b := p.cur
	if b == nil || p.stopped {
		return
	}
	p.cur = nil
	if !p.resolved {
		p.held = append(p.held, b)
		if len(p.held) == partQueue {
			p.resolve()
		}
		return
	}
	p.send(b)
}

// resolve waits for the part before to be done, then hands over the
// batches held back.
func (p *partProducer[T]) resolve() {
	if p.resolved || p.stopped {
		return
	}
	select {
	case <-p.prev.done:
	case <-p.done:
		p.stopped = true
		return
	}
	if p.prev.err != nil {
		// The input ended there: what comes after is not read.
		p.stopped = true
		return
	}
	p.resolved, p.base, p.carry = true, int(p.prev.stats.Lines), p.prev.last
	for _, b := range p.held {
		p.send(b)
	}
	p.held = nil
}

// send numbers the lines of b from the start of the file, gives the
// records without time the time of the last one before them, and hands b
// to the prepare pool and the merge.
func (p *partProducer[T]) send(b *batch[T]) {
	if p.stopped {
		return
	}
	for i := range b.entries {
		e := &b.entries[i]
		e.Line += p.base
		// A record without time before the part's first with one (there
		// are none after it).
		if e.Time.IsZero() {
			e.Time = p.carry
		}
	}
	p.stopped = !handOver(b, p.work, p.q, p.done)
}
