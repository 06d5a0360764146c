package incident

import "strings"

// clientSet holds the distinct client addresses of an incident, up to
// MaxClients. IPv4 addresses, the common case, are kept as 32-bit
// numbers in a table of their own: no copy of the record's text and no
// map operation. Only the canonical dotted form (what netip accepts: four
// decimal fields without leading zeros) is kept so, and it is unique, so
// counting those apart from the other strings counts the same. The zero
// value is an empty set.
//
// IPv4 addresses are put in the table a few dozen at a time: an
// incident's table holds up to MaxClients slots, and a slot of one is
// seldom in the cache when a record comes, so each insert waits on
// memory. Inserting a run of them in one loop lets the processor wait
// for many slots at once. They go in in the order they came, and
// everything that reads the set or adds another kind of address puts the
// waiting ones in first, so the set holds what adding them one by one
// would.
type clientSet struct {
	v4    v4Set
	other map[string]struct{}
	pend  [pendV4]uint32 // IPv4 addresses not yet in v4, in order
	npend uint8
}

// pendV4 is how many IPv4 addresses wait to be put in the table.
const pendV4 = 32

func (c *clientSet) len() int {
	c.flush()
	return c.count()
}

// count is len without the addresses that wait.
func (c *clientSet) count() int { return c.v4.n + len(c.other) }

// addV4 adds an address that parseIPv4 read.
func (c *clientSet) addV4(a uint32) {
	if c.count() >= MaxClients {
		return // full: the addresses that wait only find it full too
	}
	c.pend[c.npend] = a
	c.npend++
	if int(c.npend) == len(c.pend) {
		c.flush()
	}
}

// flush puts the IPv4 addresses that wait in the table, each while there
// is room, as addV4 would have one at a time.
func (c *clientSet) flush() {
	for _, a := range c.pend[:c.npend] {
		if c.count() < MaxClients {
			c.v4.add(a)
		}
	}
	c.npend = 0
}

// addText adds an address that parseIPv4 does not take, which may be a
// record's text.
func (c *clientSet) addText(ip string) {
	if c.len() < MaxClients {
		c.addOther(ip, strings.Clone)
	}
}

// addOther adds an address that is not kept as a number, through keep
// (a copy, when ip is a record's text) if it is new.
func (c *clientSet) addOther(ip string, keep func(string) string) {
	if _, ok := c.other[ip]; ok {
		return
	}
	if c.other == nil {
		c.other = map[string]struct{}{}
	}
	c.other[keep(ip)] = struct{}{}
}

func (c *clientSet) merge(o *clientSet) {
	o.flush()
	o.v4.each(c.addV4)
	for s := range o.other {
		if c.len() < MaxClients {
			c.addOther(s, func(s string) string { return s }) // already a copy
		}
	}
}

// v4Set is a set of IPv4 addresses: open addressing with linear probing
// in a power-of-two table at most three quarters full. 0 marks an empty
// slot; the address 0.0.0.0 has a flag of its own.
type v4Set struct {
	slots []uint32
	zero  bool
	n     int
}

func (s *v4Set) add(a uint32) {
	if a == 0 {
		if !s.zero {
			s.zero = true
			s.n++
		}
		return
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	if s.insert(a) {
		s.n++
	}
}

// insert puts a non-zero address in the table, which has room, and
// reports whether it was new.
func (s *v4Set) insert(a uint32) bool {
	mask := uint32(len(s.slots) - 1)
	h := a * 0x9e3779b1 // Fibonacci hashing spreads neighbouring addresses
	for i := (h ^ h>>16) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case a:
			return false
		case 0:
			s.slots[i] = a
			return true
		}
	}
}

func (s *v4Set) grow() {
	old := s.slots
	s.slots = make([]uint32, max(16, 2*len(old)))
	for _, a := range old {
		if a != 0 {
			s.insert(a)
		}
	}
}

func (s *v4Set) each(fn func(uint32)) {
	if s.zero {
		fn(0)
	}
	for _, a := range s.slots {
		if a != 0 {
			fn(a)
		}
	}
}

// parseIPv4 reads a dotted-quad IPv4 address as netip.ParseAddr does:
// four decimal fields of 0 to 255, no leading zeros, nothing else. A
// field's second and third digits are read without a loop: it runs on
// every record with a client.
func parseIPv4(s string) (uint32, bool) {
	if len(s) < 7 || len(s) > 15 {
		return 0, false
	}
	var a uint32
	i := 0
	for f := range 4 {
		if f > 0 {
			if i == len(s) || s[i] != '.' {
				return 0, false
			}
			i++
		}
		if i == len(s) {
			return 0, false
		}
		v := uint32(s[i]) - '0'
		if v > 9 {
			return 0, false
		}
		i++
		// Up to two more digits, unless the first was a zero (a leading
		// zero, or the field 0).
		if v != 0 && i < len(s) {
			if d := uint32(s[i]) - '0'; d <= 9 {
				v = v*10 + d
				i++
				if i < len(s) {
					if d := uint32(s[i]) - '0'; d <= 9 {
						v = v*10 + d
						i++
					}
				}
			}
		}
		if v > 255 {
			return 0, false
		}
		a = a<<8 | v
	}
	return a, i == len(s)
}
