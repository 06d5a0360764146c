package spool

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

// A record is an incident written field by field: unsigned varints for
// lengths and counts, signed ones for numbers, strings as length and
// bytes, a slice or map as its length plus one (0 for nil), a time as
// the index of its zone in Spool.locs and its Unix seconds and
// nanoseconds, so that a time comes back with the same zone and prints
// the same. In the file, each record is preceded by its length.

// appendRecord appends in's record, without its length, to b.
func (s *Spool) appendRecord(b []byte, in *incident.Incident) []byte {
	e := enc{b: b}
	e.str(in.ID)
	e.str(in.Title)
	e.str(in.Group)
	e.str(in.Subject)
	e.str(in.SubjectKind)
	e.int(int64(in.Severity))
	s.time(&e, in.Start)
	s.time(&e, in.End)
	e.int(in.Count)
	e.length(len(in.CountsByRule), in.CountsByRule == nil)
	for k, v := range in.CountsByRule {
		e.str(k)
		e.int(v)
	}
	e.int(in.PeakPerMinute)
	e.str(in.RootCause.RuleID)
	e.str(in.RootCause.Title)
	e.str(in.RootCause.Cause)
	e.int(in.RootCause.Count)
	e.strs(in.Remediation)
	e.strs(in.Diagnostics)
	e.length(len(in.HTTPStatus), in.HTTPStatus == nil)
	for _, v := range in.HTTPStatus {
		e.int(int64(v))
	}
	e.counts(in.VHosts)
	e.counts(in.Requests)
	e.counts(in.Scripts)
	e.strs(in.Pools)
	e.int(in.Clients)
	e.strs(in.Sources)
	e.length(len(in.Samples), in.Samples == nil)
	for _, sm := range in.Samples {
		s.time(&e, sm.Time)
		e.str(sm.File)
		e.int(int64(sm.Line))
		e.str(sm.RuleID)
		e.str(sm.Text)
	}
	e.bool(in.DeployBlip)
	e.bool(in.Open)
	return e.b
}

func (s *Spool) time(e *enc, t time.Time) {
	if t.IsZero() {
		e.uint(0)
		return
	}
	i := 0
	for i < len(s.locs) && s.locs[i] != t.Location() {
		i++
	}
	if i == len(s.locs) {
		s.locs = append(s.locs, t.Location())
	}
	e.uint(uint64(i) + 1)
	e.int(t.Unix())
	e.uint(uint64(t.Nanosecond()))
}

type enc struct{ b []byte }

func (e *enc) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) str(v string) {
	e.uint(uint64(len(v)))
	e.b = append(e.b, v...)
}
func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// length writes n+1, or 0 for a nil slice or map.
func (e *enc) length(n int, isNil bool) {
	if isNil {
		e.uint(0)
		return
	}
	e.uint(uint64(n) + 1)
}

func (e *enc) strs(v []string) {
	e.length(len(v), v == nil)
	for _, s := range v {
		e.str(s)
	}
}

func (e *enc) counts(v []incident.Count) {
	e.length(len(v), v == nil)
	for _, c := range v {
		e.str(c.Value)
		e.int(c.Count)
	}
}

var errCorrupt = errors.New("corrupt record")

// decode reads one record, without its length.
func (s *Spool) decode(b []byte) (*incident.Incident, error) {
	d := dec{b: b}
	in := &incident.Incident{}
	in.ID = d.str()
	in.Title = d.str()
	in.Group = d.str()
	in.Subject = d.str()
	in.SubjectKind = d.str()
	in.Severity = rules.Severity(d.int())
	in.Start = s.readTime(&d)
	in.End = s.readTime(&d)
	in.Count = d.int()
	if n, ok := d.length(); ok {
		in.CountsByRule = make(map[string]int64, n)
		for range n {
			k := d.str()
			in.CountsByRule[k] = d.int()
		}
	}
	in.PeakPerMinute = d.int()
	in.RootCause.RuleID = d.str()
	in.RootCause.Title = d.str()
	in.RootCause.Cause = d.str()
	in.RootCause.Count = d.int()
	in.Remediation = d.strs()
	in.Diagnostics = d.strs()
	if n, ok := d.length(); ok {
		in.HTTPStatus = make([]int, n)
		for i := range in.HTTPStatus {
			in.HTTPStatus[i] = int(d.int())
		}
	}
	in.VHosts = d.counts()
	in.Requests = d.counts()
	in.Scripts = d.counts()
	in.Pools = d.strs()
	in.Clients = d.int()
	in.Sources = d.strs()
	if n, ok := d.length(); ok {
		in.Samples = make([]incident.Sample, n)
		for i := range in.Samples {
			sm := &in.Samples[i]
			sm.Time = s.readTime(&d)
			sm.File = d.str()
			sm.Line = int(d.int())
			sm.RuleID = d.str()
			sm.Text = d.str()
		}
	}
	in.DeployBlip = d.bool()
	in.Open = d.bool()
	if d.err != nil || len(d.b) != 0 {
		return nil, errCorrupt
	}
	return in, nil
}

func (s *Spool) readTime(d *dec) time.Time {
	i := d.uint()
	if i == 0 {
		return time.Time{}
	}
	sec, ns := d.int(), d.uint()
	if i > uint64(len(s.locs)) || ns >= 1e9 {
		d.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(ns)).In(s.locs[i-1])
}

// dec reads what enc wrote; the first error sticks and the rest reads
// zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *dec) str() string {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

func (d *dec) bool() bool {
	if len(d.b) == 0 {
		d.fail()
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

// length reads what enc.length wrote: the length, and false for nil. A
// length longer than what is left is corrupt (every element takes at
// least a byte).
func (d *dec) length() (int, bool) {
	v := d.uint()
	if v == 0 {
		return 0, false
	}
	if v-1 > uint64(len(d.b)) {
		d.fail()
		return 0, false
	}
	return int(v - 1), true
}

func (d *dec) strs() []string {
	n, ok := d.length()
	if !ok {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.str()
	}
	return v
}

func (d *dec) counts() []incident.Count {
	n, ok := d.length()
	if !ok {
		return nil
	}
	v := make([]incident.Count, n)
	for i := range v {
		v[i] = incident.Count{Value: d.str(), Count: d.int()}
	}
	return v
}
