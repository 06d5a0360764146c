// Package spool keeps the finished incidents of a run in report order
// with bounded memory. Up to a fixed number are held in memory; beyond
// that they are sorted and written as a run to one temporary file, and
// reading merges the runs. A month of logs can make a hundred thousand
// incidents: the report lists them all, but never holds them all.
package spool

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"time"

	"github.com/logtriage/logtriage/incident"
)

// DefaultMemory is how many incidents a Spool holds before it writes a
// run, a few megabytes; twice that while a run is being written.
const DefaultMemory = 2048

// Spool collects incidents and gives them back in the order of cmp.
// It is not safe for concurrent use.
type Spool struct {
	cmp    func(a, b *incident.Incident) int
	memory int    // incidents held before a run is written
	dir    string // where the temporary file goes; "" for os.TempDir

	mem []*incident.Incident
	n   int
	// A run is written on a goroutine of its own, so that Add returns at
	// once: writing holds its incidents until wait has its outcome.
	writing []*incident.Incident
	done    chan error

	warn error // why the spool stopped writing runs (set by wait)
	err  error // why the last All stopped early

	// Written by the goroutine that writes a run; read after wait.
	f    *os.File // unlinked as soon as made; nil before the first run
	size int64    // bytes written to f
	runs []run
	locs []*time.Location // the zones of the times written, by index
}

// run is one sorted batch of incidents in the file.
type run struct {
	off, size int64
	n         int
}

// New returns a spool that holds up to memory incidents (DefaultMemory
// when 0 or less) before it writes to a temporary file in dir ("" for
// os.TempDir).
func New(dir string, memory int, cmp func(a, b *incident.Incident) int) *Spool {
	if memory <= 0 {
		memory = DefaultMemory
	}
	return &Spool{cmp: cmp, memory: memory, dir: dir}
}

// Len is how many incidents were added.
func (s *Spool) Len() int { return s.n }

// Add keeps in. When memory is full, the incidents held are sorted and
// written as a run, while the next ones are added. If the file cannot
// be made or written, the spool keeps everything in memory from then on
// and Warning says why: nothing added is lost.
func (s *Spool) Add(in *incident.Incident) {
	s.mem = append(s.mem, in)
	s.n++
	if len(s.mem) < s.memory || s.warn != nil {
		return
	}
	if s.wait(); s.warn != nil {
		return
	}
	s.writing, s.mem = s.mem, make([]*incident.Incident, 0, s.memory)
	s.done = make(chan error, 1)
	go func() { s.done <- s.spill(s.writing) }()
}

// wait waits for the run being written. If it failed, its incidents go
// back to memory, and the spool writes no more runs.
func (s *Spool) wait() {
	if s.done == nil {
		return
	}
	err := <-s.done
	s.done = nil
	if err != nil {
		s.warn = fmt.Errorf("spool: %w; keeping every incident in memory", err)
		s.mem = append(s.writing, s.mem...) // added first: first among equals
	}
	s.writing = nil
}

// Warning says why the spool fell back to memory; nil when it did not.
func (s *Spool) Warning() error {
	s.wait()
	return s.warn
}

// Spilled is how many incidents are in the file.
func (s *Spool) Spilled() int {
	s.wait()
	return s.n - len(s.mem)
}

// spill writes ins as one sorted run. On failure the file is cut back
// to where the run began.
func (s *Spool) spill(ins []*incident.Incident) error {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "logtriage-spool-*")
		if err != nil {
			return err
		}
		// Unlinked at once: the data lives as long as the descriptor,
		// and nothing is left behind by a crash.
		if err := os.Remove(f.Name()); err != nil {
			f.Close()
			return err
		}
		s.f = f
	}
	slices.SortStableFunc(ins, s.cmp)
	w := bufio.NewWriterSize(io.NewOffsetWriter(s.f, s.size), 64<<10)
	var buf []byte
	var size int64
	for _, in := range ins {
		buf = s.appendRecord(buf[:0], in)
		var l [binary.MaxVarintLen64]byte
		n, err := w.Write(binary.AppendUvarint(l[:0], uint64(len(buf))))
		size += int64(n)
		if err == nil {
			n, err = w.Write(buf)
			size += int64(n)
		}
		if err != nil {
			return s.undo(err)
		}
	}
	if err := w.Flush(); err != nil {
		return s.undo(err)
	}
	s.runs = append(s.runs, run{off: s.size, size: size, n: len(ins)})
	s.size += size
	return nil
}

func (s *Spool) undo(err error) error {
	if terr := s.f.Truncate(s.size); terr != nil {
		return errors.Join(err, terr)
	}
	return err
}

// Close releases the temporary file.
func (s *Spool) Close() error {
	s.wait()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Err is the error that cut the last All short; nil when it read every
// incident.
func (s *Spool) Err() error { return s.err }

// All yields the incidents in order, numbered from 0. Each call reads
// the runs again; a read error ends it early and Err says why.
func (s *Spool) All() iter.Seq2[int, *incident.Incident] {
	return func(yield func(int, *incident.Incident) bool) {
		s.wait()
		s.err = nil
		slices.SortStableFunc(s.mem, s.cmp)
		if len(s.runs) == 0 {
			for i, in := range s.mem {
				if !yield(i, in) {
					return
				}
			}
			return
		}
		if s.f == nil {
			s.err = errors.New("spool: read after Close")
			return
		}
		m := &merger{cmp: s.cmp}
		for i, r := range s.runs {
			rd := &runReader{s: s, r: bufio.NewReaderSize(io.NewSectionReader(s.f, r.off, r.size), 16<<10), left: r.n}
			if s.err = m.add(i, rd); s.err != nil {
				return
			}
		}
		m.add(len(s.runs), &memReader{ins: s.mem})
		for i := 0; m.Len() > 0; i++ {
			in, err := m.next()
			if err != nil {
				s.err = err
				return
			}
			if !yield(i, in) {
				return
			}
		}
	}
}

// source is a sorted sequence of incidents: a run in the file, or the
// ones still in memory.
type source interface {
	next() (*incident.Incident, error) // nil, nil at the end
}

type runReader struct {
	s    *Spool
	r    *bufio.Reader
	left int
	buf  []byte
}

func (rr *runReader) next() (*incident.Incident, error) {
	if rr.left == 0 {
		return nil, nil
	}
	rr.left--
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("spool: %w", err)
	}
	if n > 1<<30 {
		return nil, errors.New("spool: corrupt record length")
	}
	rr.buf = slices.Grow(rr.buf[:0], int(n))[:n]
	if _, err := io.ReadFull(rr.r, rr.buf); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	in, err := rr.s.decode(rr.buf)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return in, nil
}

type memReader struct {
	ins []*incident.Incident
	i   int
}

func (m *memReader) next() (*incident.Incident, error) {
	if m.i == len(m.ins) {
		return nil, nil
	}
	m.i++
	return m.ins[m.i-1], nil
}

// merger is a heap of the sources' next incidents; among equal ones the
// earlier source comes first, so the merge is stable.
type merger struct {
	cmp   func(a, b *incident.Incident) int
	heads []head
}

type head struct {
	in  *incident.Incident
	src source
	ord int
}

// add puts src's first incident on the heap, if it has one.
func (m *merger) add(ord int, src source) error {
	in, err := src.next()
	if in != nil {
		heap.Push(m, head{in: in, src: src, ord: ord})
	}
	return err
}

func (m *merger) next() (*incident.Incident, error) {
	h := &m.heads[0]
	out := h.in
	in, err := h.src.next()
	if err != nil {
		return nil, err
	}
	if in == nil {
		heap.Pop(m)
	} else {
		h.in = in
		heap.Fix(m, 0)
	}
	return out, nil
}

func (m *merger) Len() int { return len(m.heads) }
func (m *merger) Less(i, j int) bool {
	a, b := m.heads[i], m.heads[j]
	if c := m.cmp(a.in, b.in); c != 0 {
		return c < 0
	}
	return a.ord < b.ord
}
func (m *merger) Swap(i, j int) { m.heads[i], m.heads[j] = m.heads[j], m.heads[i] }
func (m *merger) Push(x any)    { m.heads = append(m.heads, x.(head)) }
func (m *merger) Pop() any {
	h := m.heads[len(m.heads)-1]
	m.heads = m.heads[:len(m.heads)-1]
	return h
}
