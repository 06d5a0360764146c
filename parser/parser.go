package parser

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"time"
	"unsafe"
)

// Options configure a Parser.
type Options struct {
	// File names the source in entries and errors.
	File string
	// Format forces a format; FormatAuto detects it from the first line
	// that any format recognises, and still accepts records of another
	// format later in the stream (a concatenation of logs on stdin).
	Format Format
	// Location is the zone of timestamps that carry none (all three
	// servers write local time). Nil means time.Local.
	Location *time.Location
	// MaxRecord caps the bytes of a record built from folded lines; a line
	// that would make it longer starts an unparsed record instead. It
	// bounds memory on hostile input. Zero means 64 KiB.
	MaxRecord int
	// Samples is how many unparsed lines Stats keeps. Zero means
	// DefaultSamples.
	Samples int
	// Entry, when set, gives Flush the Entry to build each record in, in
	// place of the parser's own: a caller that keeps records in a batch
	// has them built there instead of copying each one. emit gets the
	// pointer Entry returned.
	Entry func() *Entry
	// Block, when set, gives Scan the blocks of BlockSize bytes it reads
	// into (see LineReader.SetBlock) instead of new ones. The records'
	// text lies in them, so whoever lends them decides how long that
	// text stays valid.
	Block func() []byte
}

// Stats counts what a Parser saw.
type Stats struct {
	Lines    int64 // physical lines
	Bytes    int64 // bytes of those lines, newlines included
	Blank    int64 // empty lines outside any record
	Records  int64 // entries emitted, parsed or not
	Parsed   int64 // entries of a known format
	Unparsed int64 // entries no format recognised
	Folded   int64 // lines folded into the record before them
	Cut      int64 // lines longer than the reader's cap
	// UnparsedSamples holds the first unparsed lines, so that a format
	// the parser does not know is visible, never silently dropped.
	UnparsedSamples []string
}

// DefaultSamples is how many unparsed lines Stats keeps by default.
const DefaultSamples = 5

// Add adds o's counts to s, keeping at most max samples.
func (s *Stats) Add(o Stats, max int) {
	s.Lines += o.Lines
	s.Bytes += o.Bytes
	s.Blank += o.Blank
	s.Records += o.Records
	s.Parsed += o.Parsed
	s.Unparsed += o.Unparsed
	s.Folded += o.Folded
	s.Cut += o.Cut
	for _, x := range o.UnparsedSamples {
		if len(s.UnparsedSamples) >= max {
			break
		}
		s.UnparsedSamples = append(s.UnparsedSamples, x)
	}
}

// Parser turns lines into entries. It is not safe for concurrent use; use
// one per file.
type Parser struct {
	opt    Options
	format Format // forced or detected; FormatAuto until the first record
	loc    *time.Location

	// The record being collected: its first pendLen bytes of pendExt,
	// in the LineReader's block, while its lines lie one after the other
	// there; else a copy in pend.
	pendExt   []byte
	pendLen   int
	pend      []byte
	pendOn    bool
	pendFmt   Format
	pendOff   int64
	pendLine  int
	pendLines int
	pendCut   bool
	pendBare  bool // a record written without a timestamp: takes lastTime

	lastTime time.Time
	hourKey  [4]int // year, month, day, hour of hourBase
	hourBase time.Time
	// stampTime is the time of the nginx timestamp in stamp, the last
	// one converted.
	stamp     [len("2006/01/02 15:04:05")]byte
	stampTime time.Time
	actions   recentActions

	stats Stats
	entry Entry
}

// New returns a Parser.
func New(opt Options) *Parser {
	if opt.MaxRecord <= 0 {
		opt.MaxRecord = 64 << 10
	}
	if opt.Samples <= 0 {
		opt.Samples = DefaultSamples
	}
	loc := opt.Location
	if loc == nil {
		loc = time.Local
	}
	return &Parser{opt: opt, format: opt.Format, loc: loc}
}

// Format returns the forced or detected format, FormatAuto if no record
// was recognised yet.
func (p *Parser) Format() Format { return p.format }

// SetFormat sets the format as if the lines before had been read and f
// detected from them (FormatAuto: none yet), for a parser that starts in
// the middle of a log.
func (p *Parser) SetFormat(f Format) { p.format = f }

// StartsRecord reports whether line, a line without its newline, starts a
// record in the format detected so far. Such a line starts one whatever
// came before it, so a log can be cut there and the parts parsed apart
// (see Scan). Other lines may start records too (an unparsed line does),
// depending on what came before them.
func (p *Parser) StartsRecord(line []byte) bool {
	f, _ := p.recognize(line)
	return f != FormatAuto
}

// Stats returns the counts so far.
func (p *Parser) Stats() Stats { return p.stats }

// Feed takes one physical line. emit is called for each record the line
// completes (the record before it, when the line starts a new one) and
// for an unparsed line. The *Entry is valid only during the call; copy the
// struct to keep it (its strings are immutable; see Entry on keeping them).
// The entries own their text: Feed copies the lines it is given.
func (p *Parser) Feed(l Line, emit func(*Entry)) {
	l.ext = nil
	p.feed(l, emit)
}

// feed is Feed for Scan, which passes lines in its own LineReader's
// blocks: records whose lines lie one after the other there are not
// copied.
func (p *Parser) feed(l Line, emit func(*Entry)) {
	p.stats.Lines++
	p.stats.Bytes += int64(len(l.Text)) + 1
	if l.Cut {
		p.stats.Cut++
	}
	text := l.Text

	if f, bare := p.recognize(text); f != FormatAuto {
		p.Flush(emit)
		if p.format == FormatAuto {
			p.format = f
		}
		p.start(f, bare, l)
		return
	}

	if len(bytes.TrimSpace(text)) == 0 {
		if p.pendOn && p.pendFmt.folds() {
			p.fold(l)
		} else {
			p.stats.Blank++
		}
		return
	}

	if p.pendOn && p.pendFmt.folds() && p.pendSize()+1+len(text) <= p.opt.MaxRecord {
		p.fold(l)
		return
	}

	// A line of no known shape: in an Apache log it is a line written
	// without the usual prefix (startup messages, a module's raw stderr).
	p.Flush(emit)
	p.start(FormatAuto, true, l)
	p.Flush(emit)
}

// Flush emits the record being collected, if any. Call it at the end of
// the input, and when following a file that has gone quiet: a record is
// otherwise only known complete when the next one starts.
func (p *Parser) Flush(emit func(*Entry)) {
	if !p.pendOn {
		return
	}
	p.pendOn = false
	e := &p.entry
	if p.opt.Entry != nil {
		e = p.opt.Entry()
	}
	*e = Entry{
		File:   p.opt.File,
		Offset: p.pendOff,
		Line:   p.pendLine,
		Lines:  p.pendLines,
		Cut:    p.pendCut,
		Raw:    p.pendString(),
	}
	ok := false
	switch p.pendFmt {
	case FormatNginx:
		ok = p.parseNginx(e)
	case FormatApache24:
		ok = p.parseApache24(e)
	case FormatApache22:
		ok = p.parseApache22(e)
	case FormatFPM:
		ok = p.parseFPM(e)
	case FormatFPMSlow:
		ok = p.parseFPMSlow(e)
	case FormatAuto:
		ok = p.parseBare(e)
	}
	if ok && e.Time.IsZero() {
		e.Time = p.lastTime
	}
	if !ok {
		*e = Entry{
			File: p.opt.File, Offset: p.pendOff, Line: p.pendLine, Lines: p.pendLines,
			Cut: p.pendCut, Raw: e.Raw, Message: e.Raw, Unparsed: true, Time: p.lastTime,
			Format: p.format, Server: p.format.Server(),
		}
		p.stats.Unparsed++
		if len(p.stats.UnparsedSamples) < p.opt.Samples {
			// A copy: the record's text shares its block of input.
			p.stats.UnparsedSamples = append(p.stats.UnparsedSamples, strings.Clone(e.Raw[:min(len(e.Raw), 300)]))
		}
	} else {
		p.stats.Parsed++
		if !e.Time.IsZero() {
			p.lastTime = e.Time
		}
	}
	p.stats.Records++
	emit(e)
}

func (p *Parser) start(f Format, bare bool, l Line) {
	p.pendOn = true
	p.pendFmt = f
	p.pendBare = bare
	p.pendOff = l.Offset
	p.pendLine = l.Number
	p.pendLines = 1
	p.pendCut = l.Cut
	p.pend = p.pend[:0]
	p.pendExt, p.pendLen = l.ext, len(l.Text)
	if l.ext == nil {
		p.pend = append(p.pend, l.Text...)
	}
}

func (p *Parser) fold(l Line) {
	p.pendLines++
	p.pendCut = p.pendCut || l.Cut
	p.stats.Folded++
	if ext, n := p.pendExt, p.pendLen; ext != nil {
		// Still one run of the block: the line follows the record's last
		// newline directly.
		if l.ext != nil && len(ext) > n+1 && ext[n] == '\n' && &ext[n+1] == &l.ext[0] {
			p.pendLen = n + 1 + len(l.Text)
			return
		}
		p.pend = append(p.pend, ext[:n]...)
		p.pendExt = nil
	}
	p.pend = append(p.pend, '\n')
	p.pend = append(p.pend, l.Text...)
}

// pendSize is the length of the record being collected.
func (p *Parser) pendSize() int {
	if p.pendExt != nil {
		return p.pendLen
	}
	return len(p.pend)
}

// pendString returns the record being collected, trailing space trimmed.
// A record that lies in a LineReader's block is not copied: the block is
// never written again, so a string over it is as immutable as any.
func (p *Parser) pendString() string {
	if p.pendExt == nil {
		return string(trimRightSpace(p.pend))
	}
	b := trimRightSpace(p.pendExt[:p.pendLen])
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// folds reports whether lines without a timestamp continue a record of
// this format. Apache escapes newlines, so its records are one line each.
func (f Format) folds() bool {
	switch f {
	case FormatNginx, FormatFPM, FormatFPMSlow:
		return true
	}
	return false
}

// recognize returns the format whose record header starts text, and
// whether it is a header without timestamp (php-fpm child output, nginx
// startup lines). FormatAuto means no header: a continuation or garbage.
func (p *Parser) recognize(text []byte) (Format, bool) {
	if len(text) < 8 {
		return FormatAuto, false
	}
	try := func(f Format) (Format, bool) {
		switch f {
		case FormatNginx:
			if isNginxHeader(text) {
				return f, false
			}
			if isNginxBare(text) {
				return f, true
			}
		case FormatApache24:
			if isApache24Header(text) {
				return f, false
			}
		case FormatApache22:
			if isApache22Header(text) {
				return f, false
			}
		case FormatFPM:
			if isFPMHeader(text) {
				return f, false
			}
			if isFPMBare(text) {
				return f, true
			}
		case FormatFPMSlow:
			if isFPMSlowHeader(text) {
				return f, false
			}
		}
		return FormatAuto, false
	}
	if p.format != FormatAuto {
		if f, bare := try(p.format); f != FormatAuto {
			return f, bare
		}
		// php-fpm may write its slowlog into the error log.
		pair := FormatAuto
		switch p.format {
		case FormatFPM:
			pair = FormatFPMSlow
		case FormatFPMSlow:
			pair = FormatFPM
		}
		if pair != FormatAuto {
			if f, bare := try(pair); f != FormatAuto {
				return f, bare
			}
		}
		if p.opt.Format != FormatAuto {
			return FormatAuto, false
		}
	}
	for _, f := range [...]Format{FormatNginx, FormatApache24, FormatApache22, FormatFPM, FormatFPMSlow} {
		if f == p.format {
			continue
		}
		// Bare headers only count in a file of their format: "NOTICE: x"
		// alone says too little.
		if g, bare := try(f); g != FormatAuto && !bare {
			return g, false
		}
	}
	return FormatAuto, false
}

func trimRightSpace(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\n', '\r':
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

// Scan reads r to the end, line by line, and calls emit for every record.
// It returns the parser's counts and the first read error; the records
// read before an error have been emitted (a truncated .gz keeps what came
// before the damage). The records' text lies in the blocks Scan reads
// into (see Entry). Scan does its own buffering: r needs none.
func Scan(r io.Reader, opt Options, emit func(*Entry)) (Stats, error) {
	return New(opt).Scan(r, emit)
}

// Scan is the package's Scan with p: a parser given SetFormat parses a
// part of a log that starts at a line StartsRecord accepts as the whole
// log's parser would have, but for the line numbers, the offsets (both
// count from the start of r) and the time of the records before the first
// that has one (zero, not that of the record before the part).
func (p *Parser) Scan(r io.Reader, emit func(*Entry)) (Stats, error) {
	lr := NewLineReader(r, 0)
	lr.SetBlock(p.opt.Block)
	for {
		l, err := lr.Next()
		if err != nil {
			p.Flush(emit)
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return p.Stats(), err
		}
		p.feed(l, emit)
	}
}
