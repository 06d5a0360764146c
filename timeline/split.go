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

// A large input, a plain file or a compressed one, is cut into parts of
// about partSize bytes, each starting at a line that starts a record
// whatever came before it, and the parts are parsed on every core, a few
// ahead of the merge, which takes them in order. A part's records are not
// handed over before the part that comes before it is parsed to the end:
// only then are their line numbers, and the time of those that have none,
// known.
const (
	// partQueue is how many batches a part may have waiting: a whole
	// part of lines of 128 bytes or more, so that a part is parsed to
	// the end while the merge is still on the part before it. A part of
	// shorter lines waits for the merge, as an unsplit input does.
	partQueue = 32
	// cutSearch is how far past partSize a cut is looked for; an input
	// with no record start in that much is not cut any further.
	cutSearch = 4 << 20
	// probeLen is the window read to find a cut in a file; a line longer
	// than it is never one.
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

// inflated is a compressed file read decompressed (a source.Inflated):
// unlike a pipe it has all its bytes there to be read, so reading parts
// of it ahead of their parsing holds back no record.
type inflated interface {
	io.Reader
	InflatedFile()
}

// splitter cuts one input into parts and hands them to the workers.
type splitter struct {
	opt    parser.Options
	format parser.Format // detected before the first cut
	mu     sync.Mutex    // guards what follows
	// cutter cuts parts under mu, so for one worker at a time; its
	// release is called without.
	cutter  cutter
	stopped bool // ctx was done before the last part was cut
	index   int  // of the next part
	prev    *tail
	blocks  *blockPool // lends the parts' text blocks; nil: none
}

// A cutter cuts an input into parts, in order.
type cutter interface {
	// next returns the bytes of the next part; false when none is left.
	next() (span, bool)
	// release takes back a span once it is parsed or dropped; it is safe
	// for concurrent use.
	release(span)
}

// span is the bytes of one part.
type span struct {
	r     io.Reader // reads them
	start int64     // the offset of the first in the input
	buf   []byte    // holds them when they were read ahead; nil for a file
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

// newSplitter returns a splitter for r if it is an input worth cutting
// (worthCutting): a plain file (sectioned) at least two parts long with
// its format known from its first part, or a compressed file (inflated).
func newSplitter(r io.Reader, opt parser.Options) *splitter {
	if !worthCutting(r) {
		return nil
	}
	var c cutter
	format := parser.FormatAuto
	switch f := r.(type) {
	case sectioned:
		head := make([]byte, max(partSize, probeLen))
		n, _ := f.ReadAt(head, 0)
		var detected int
		var ok bool
		format, detected, ok = detect(head[:n], opt)
		if !ok {
			return nil
		}
		c = &fileCutter{f: f, probe: probe(opt, format), detected: int64(detected), buf: make([]byte, probeLen)}
	case inflated:
		sc := &streamCutter{r: f, bufs: make(chan []byte, runtime.GOMAXPROCS(0)+2)}
		head := sc.buffer()
		for int64(len(head)) < max(partSize, probeLen) && sc.err == nil {
			head = sc.read(head)
		}
		sc.pending = head
		detected, ok := 0, false
		if format, detected, ok = detect(head, opt); ok {
			sc.probe, sc.detected = probe(opt, format), int64(detected)
		}
		c = sc
	default:
		return nil
	}
	done := make(chan struct{})
	close(done)
	return &splitter{opt: opt, format: format, cutter: c, prev: &tail{done: done}}
}

// worthCutting reports whether newSplitter would consider r, without
// reading any of it: a plain file at least two parts long, or a
// compressed one. On several cores the parts are parsed at once (a
// compressed file's inflated on one core while another parses). On one
// they are parsed one after the other, which still pays: into blocks
// read into again (see MergeReusing) rather than into as much new
// memory as the file is long.
func worthCutting(r io.Reader) bool {
	switch f := r.(type) {
	case sectioned:
		return f.Size() >= 2*partSize
	case inflated:
		return true
	}
	return false
}

// splitInputs is how many inputs of one merge may be cut into parts at
// the same time. Each holds a few parts in memory, a megabyte or so with
// their records, and the merge needs the head of every input: a month
// of rotated logs all cut at once held 100 MB and spent its time
// collecting garbage. Two keep the cores busy; the other inputs are read
// as a stream, as a pipe is.
const splitInputs = 2

// detect reads the lines of head until the format is detected, as Scan
// would, and returns it with the end of the line it was detected on: no
// cut may come before that, since the parsers of later parts start with
// the format the whole log's parser has by then. It reports false when
// head ends first.
func detect(head []byte, opt parser.Options) (parser.Format, int, bool) {
	p := parser.New(opt)
	end := 0
	for p.Format() == parser.FormatAuto {
		i := bytes.IndexByte(head[end:], '\n')
		if i < 0 {
			return parser.FormatAuto, 0, false
		}
		p.Feed(parser.Line{Text: bytes.TrimSuffix(head[end:end+i], []byte("\r"))}, func(*parser.Entry) {})
		end += i + 1
	}
	return p.Format(), end, true
}

// probe returns a parser that tells the lines that start records of f.
func probe(opt parser.Options, f parser.Format) *parser.Parser {
	p := parser.New(opt)
	p.SetFormat(f)
	return p
}

// fileCutter cuts a file that can be read at any offset, finding each cut
// in a window read there.
type fileCutter struct {
	f        io.ReaderAt
	probe    *parser.Parser
	detected int64  // the end of the line the format was detected on
	buf      []byte // probeLen
	at       int64  // start of the next part; -1: none
}

func (c *fileCutter) next() (span, bool) {
	if c.at < 0 {
		return span{}, false
	}
	start := c.at
	c.at = c.cut(max(start+partSize, c.detected))
	n := int64(math.MaxInt64 - start)
	if c.at >= 0 {
		n = c.at - start
	}
	return span{r: io.NewSectionReader(c.f, start, n), start: start}, true
}

func (c *fileCutter) release(span) {}

// cut returns the first line start at or after off whose line starts a
// record, or -1 when there is none within cutSearch or before the end.
func (c *fileCutter) cut(off int64) int64 {
	// Read from the byte before off, to know whether a line starts at off.
	for pos := off - 1; pos < off+cutSearch; {
		n, err := c.f.ReadAt(c.buf, pos)
		w := c.buf[:n]
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
			if c.probe.StartsRecord(bytes.TrimSuffix(w[start:start+j], []byte("\r"))) {
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

// part is a stretch of the input and its queue of batches.
type part[T any] struct {
	span
	index     int
	q         chan *batch[T]
	prev, own *tail
	// blocks are the text blocks lent to the part's parser, for the
	// merge to take back once q is closed.
	blocks [][]byte
}

// split parses the input on every core, in parts handed to parts in
// order, and returns the input's counts and error.
func split[T any](ctx context.Context, s *splitter, parts chan<- queue[T], free chan *batch[T], work chan<- *batch[T]) (parser.Stats, error) {
	// claim cuts the next part and hands its queue to the merge. It
	// reports false when there is none left or ctx is done.
	claim := func() (*part[T], bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stopped {
			return nil, false
		}
		sp, ok := s.cutter.next()
		if !ok {
			return nil, false
		}
		pt := &part[T]{span: sp, index: s.index, q: make(chan *batch[T], partQueue), prev: s.prev, own: &tail{done: make(chan struct{})}}
		select {
		case parts <- queue[T]{batches: pt.q, blocks: &pt.blocks}:
		case <-ctx.Done():
			s.stopped = true
			s.cutter.release(sp)
			return nil, false
		}
		s.index, s.prev = s.index+1, pt.own
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
	opt := s.opt
	opt.Entry = p.next
	if s.blocks != nil {
		opt.Block = func() []byte {
			b := s.blocks.get()
			p.blocks = append(p.blocks, b)
			return b
		}
	}
	ps := parser.New(opt)
	if p.index > 0 {
		ps.SetFormat(s.format)
	}
	// The records' text is in the parser's own blocks: the span can go.
	stats, err := ps.Scan(&ctxReader{ctx: ctx, r: p.r}, p.add)
	s.cutter.release(p.span)
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
		samples = parser.DefaultSamples
	}
	own.stats.Add(stats, samples)
	own.last, own.err = prev.last, err
	if !p.last.IsZero() {
		own.last = p.last
	}
}

// next gives the parser the place of the next record: the end of the
// batch being filled.
func (p *partProducer[T]) next() *parser.Entry {
	return nextEntry(&p.cur, p.free, p.work != nil)
}

// add takes the record the parser built where next said: the last of
// the batch being filled.
func (p *partProducer[T]) add(e *parser.Entry) {
	if p.stopped {
		dropLast(p.cur)
		return
	}
	e.Offset += p.start
	if !e.Time.IsZero() {
		p.last = e.Time
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
