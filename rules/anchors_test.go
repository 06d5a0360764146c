package rules

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/bench"
	"github.com/logtriage/logtriage/parser"
)

// found returns the ids anchorSet reports for text, sorted, once each.
func found(a *anchorSet, text string) []int32 {
	var ids []int32
	a.scan(text, func(id int32) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	})
	slices.Sort(ids)
	return ids
}

// contained is what anchorSet must report: the literals strings.Contains
// finds.
func contained(lits []string, text string) []int32 {
	var ids []int32
	for i, l := range lits {
		if strings.Contains(text, l) {
			ids = append(ids, int32(i))
		}
	}
	return ids
}

func TestAnchorSet(t *testing.T) {
	tests := []struct {
		lits []string
		text string
	}{
		{[]string{"he", "she", "his", "hers"}, "ushers"},
		{[]string{"he", "she", "his", "hers"}, "h"},
		{[]string{"(111: ", "(11: ", "(1: "}, "connect() failed (111: Connection refused)"},
		{[]string{"(11: ", "(111: "}, "recv() failed (11: Resource temporarily unavailable)"},
		{[]string{"abc", "abc", "b"}, "xabcx"},
		{[]string{"", "x"}, ""},
		{[]string{"aaa", "aa"}, "aaaa"},
		{[]string{"upstream timed out", "timed out", "out"}, "client timed out (110: Connection timed out)"},
		{[]string{"\x00\xff", "\xff"}, "a\x00\xffb"},
		{[]string{"é", "\xc3"}, "café"},
		{nil, "anything"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q in %q", tt.lits, tt.text), func(t *testing.T) {
			a := newAnchorSet(tt.lits)
			if diff := cmp.Diff(contained(tt.lits, tt.text), found(a, tt.text)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAnchorSetRandom compares the automaton with strings.Contains on
// random literals and texts over a small alphabet, where literals overlap
// and nest as often as they can.
func TestAnchorSetRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(max int) string {
		b := make([]byte, rng.IntN(max+1))
		for i := range b {
			b[i] = "ab(: "[rng.IntN(5)]
		}
		return string(b)
	}
	for range 300 {
		lits := make([]string, 1+rng.IntN(12))
		for i := range lits {
			lits[i] = word(5)
		}
		a := newAnchorSet(lits)
		for range 20 {
			text := word(40)
			if diff := cmp.Diff(contained(lits, text), found(a, text)); diff != "" {
				t.Fatalf("literals %q, text %q: ids (-want +got):\n%s", lits, text, diff)
			}
		}
	}
}

// The built-in anchors, on every example line of every rule.
func TestAnchorSetBuiltin(t *testing.T) {
	s := builtinSet(t)
	var lits []string
	for _, r := range s.Rules() {
		lits = append(lits, r.Anchor)
	}
	a := newAnchorSet(lits)
	for _, r := range s.Rules() {
		for _, ex := range r.Examples {
			if diff := cmp.Diff(contained(lits, ex.Line), found(a, ex.Line)); diff != "" {
				t.Errorf("%s: ids (-want +got):\n%s", ex.Source, diff)
			}
		}
	}
}

// BenchmarkAnchorScan finds the built-in nginx anchors in the messages of
// a generated log, as a message the match cache does not hold is
// scanned: the share of matching that grows with the message's length.
func BenchmarkAnchorScan(b *testing.B) {
	s := builtinSet(b)
	sr := s.byServer[parser.Nginx].index()
	var log bytes.Buffer
	if _, err := bench.Generate(bench.Config{Lines: 20000, Seed: 1, Day: bench.DefaultDay}, &log, io.Discard, io.Discard); err != nil {
		b.Fatal(err)
	}
	var msgs []string
	size := 0
	parser.Scan(&log, parser.Options{Location: time.UTC}, func(e *parser.Entry) {
		if e.Server == parser.Nginx {
			msgs = append(msgs, e.Message)
			size += len(e.Message)
		}
	})
	b.SetBytes(int64(size))
	hits := 0
	for b.Loop() {
		for _, m := range msgs {
			sr.anchors.scan(m, func(int32) { hits++ })
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(msgs)), "ns/msg")
}
