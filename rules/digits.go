package rules

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"regexp/syntax"
	"strings"

	"github.com/logtriage/logtriage/parser"
)

// Many messages differ only in their numbers: a rate limiter's excess, a
// file's id in a path, a body's size. Each is new to the cache of recent
// messages, and each would cost a scan of every anchor and a pattern. So
// a second cache keeps outcomes by the message with every ASCII digit
// replaced by '0' (its digit mask), and a message that misses the first
// cache is tried there before it is matched afresh.
//
// That answer is exact, not a guess. Most patterns treat all digits
// alike: every literal is free of digits and every class holds all ten
// or none (\d, [^)], .), and the anchor is free of digits. Such a rule
// runs the same way on two messages of one mask, byte for byte: it
// matches both or neither, with the same offsets (a digit is replaced by
// a digit, one byte by one byte). The other rules, those that tell digits
// apart (an errno written into the pattern, "(111: ", a class like
// [1-9]), are tried again on the message itself, but only those that
// could matter: the ones before the remembered rule whose anchor the
// remembered message holds, or, for an anchor with digits, whose anchor
// with masked digits its mask holds. When the remembered rule itself
// tells digits apart it is tried again too, and if it no longer matches
// the message is matched afresh.

// digitSlots is the size of the cache by digit mask; a power of two.
const digitSlots = 1024

// digitSlot keeps the outcome for one digit mask, found on one message
// of that mask.
type digitSlot struct {
	key    []byte // the message's digit mask, in a buffer the slot reuses
	server parser.Server
	level  parser.Level
	errno  int
	full   bool
	pos    int      // the first rule that matched that message; -1: none
	idx    []int    // its submatch offsets in that message
	cand   []uint64 // the rules whose anchors that message holds
	// retry holds, in order, the rules before pos that tell digits apart
	// and may match another message of the mask; made when the slot
	// first answers for another message (retried), since most masks
	// are never seen twice.
	retry   []int32
	retried bool
}

// findMasked is find, through c's cache by digit mask.
func (sr *serverRules) findMasked(e *parser.Entry, c *matchCache) (int, []int) {
	key, digits := maskDigits(c.key[:0], e.Message)
	c.key = key
	if !digits {
		// A message without digits is its own mask: nothing to share.
		return sr.find(e, &c.scratch)
	}
	if c.digits == nil {
		c.digits = new([digitSlots]digitSlot)
	}
	sl := &c.digits[maphash.Bytes(c.seed, key)&(digitSlots-1)]
	if sl.full && sl.server == e.Server && sl.level == e.Level && sl.errno == e.Errno && bytes.Equal(sl.key, key) {
		if !sl.retried {
			sr.setRetry(sl, e)
		}
		for _, j := range sl.retry {
			if idx, ok := sr.testAnchored(int(j), e, &c.scratch); ok {
				return int(j), idx
			}
		}
		switch {
		case sl.pos < 0:
			return -1, nil
		case !sr.tellsDigits[sl.pos]:
			return sl.pos, sl.idx
		}
		if idx, ok := sr.testAnchored(sl.pos, e, &c.scratch); ok {
			return sl.pos, idx
		}
		return sr.find(e, &c.scratch)
	}

	var small [4]uint64
	cand := sr.candidates(small[:])
	pos, idx := sr.findIn(e, &c.scratch, cand)
	sl.full, sl.server, sl.level, sl.errno = true, e.Server, e.Level, e.Errno
	sl.key = append(sl.key[:0], key...)
	sl.pos = pos
	sl.idx = append(sl.idx[:0], idx...)
	sl.cand = append(sl.cand[:0], cand...)
	sl.retry, sl.retried = sl.retry[:0], false
	return pos, idx
}

// setRetry fills the slot's retry list, for e, a message of its key.
func (sr *serverRules) setRetry(sl *digitSlot, e *parser.Entry) {
	for _, j := range sr.digitRules {
		if sl.pos >= 0 && int(j) >= sl.pos {
			break
		}
		if !sr.rules[j].admits(e) {
			continue // so for every message of the key
		}
		var may bool
		if m := sr.maskedAnchor[j]; m != nil {
			may = bytes.Contains(sl.key, m)
		} else {
			may = sl.cand[j/64]&(1<<(j%64)) != 0
		}
		if may {
			sl.retry = append(sl.retry, j)
		}
	}
	sl.retried = true
}

// testAnchored is test for a message that may not hold the rule's
// anchor.
func (sr *serverRules) testAnchored(i int, e *parser.Entry, sc *scratch) ([]int, bool) {
	if !strings.Contains(e.Message, sr.rules[i].Anchor) {
		return nil, false
	}
	return sr.test(i, e, sc)
}

// maskDigits appends s to dst with every ASCII digit replaced by '0',
// and reports whether s has any. Eight bytes at a time.
func maskDigits(dst []byte, s string) ([]byte, bool) {
	n := len(dst)
	dst = append(dst, s...)
	b := dst[n:]
	var found uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if d := digitBytes(x); d != 0 {
			found |= d
			binary.LittleEndian.PutUint64(b[i:], x&^d|0x3030303030303030&d)
		}
	}
	for ; i < len(b); i++ {
		if b[i]-'0' <= 9 {
			b[i], found = '0', 1
		}
	}
	return dst, found != 0
}

// digitBytes returns a word with 0xff in each byte where x holds an ASCII
// digit and 0 in the others. Each byte's low seven bits plus a constant sets its
// top bit from 0x30 on, or from 0x3a on, without carrying into the next
// byte; a byte with its own top bit set is no ASCII.
func digitBytes(x uint64) uint64 {
	const low7, top = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	y := x & low7
	from0 := y + 0x5050505050505050 // top bit: y >= '0'
	past9 := y + 0x4646464646464646 // top bit: y > '9'
	d := from0 &^ past9 &^ x & top  // a digit's top bit
	return d >> 7 * 0xff
}

// tellsDigits reports whether a pattern, parsed and simplified, may treat
// two digits differently: a literal holds a digit, or a class holds some
// digits but not all.
func tellsDigits(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if '0' <= r && r <= '9' {
				return true
			}
		}
	case syntax.OpCharClass:
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := max(re.Rune[i], '0'), min(re.Rune[i+1], '9')
			if lo <= hi {
				n += int(hi - lo + 1)
			}
		}
		if n != 0 && n != 10 {
			return true
		}
	}
	for _, sub := range re.Sub {
		if tellsDigits(sub) {
			return true
		}
	}
	return false
}
