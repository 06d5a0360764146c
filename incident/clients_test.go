package incident

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
)

// parseIPv4 takes exactly the IPv4 addresses netip.ParseAddr takes.
func TestParseIPv4AgreesWithNetip(t *testing.T) {
	texts := []string{
		"0.0.0.0", "255.255.255.255", "192.0.2.1", "10.0.0.256", "1.2.3", "1.2.3.4.5",
		"01.2.3.4", "1.2.3.04", "1.2.3.0", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ",
		"1.2.3.4%eth0", "::ffff:1.2.3.4", "1.2.3.-4", "1.2.3.+4", "1000.2.3.4", "", "a.b.c.d",
		"1.2.3.4\x00", "255.255.255.2555", "0.0.0.00",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		// Dotted quads with the odd leading zero, large field or extra dot.
		var b []byte
		for f := range 4 + r.IntN(2) - r.IntN(2) {
			if f > 0 {
				b = append(b, '.')
			}
			if r.IntN(20) == 0 {
				b = append(b, '0')
			}
			b = strconv.AppendInt(b, int64(r.IntN(300)), 10)
		}
		texts = append(texts, string(b))
	}
	for range 20000 {
		// Anything made of digits and dots, and the odd other byte.
		const alphabet = "0123456789.......:x\x00\xff"
		b := make([]byte, r.IntN(18))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		a, err := netip.ParseAddr(s)
		want := err == nil && a.Is4()
		got, ok := parseIPv4(s)
		if ok != want {
			t.Fatalf("parseIPv4(%q) ok = %v, netip says %v", s, ok, want)
		}
		if ok {
			b := a.As4()
			if w := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]); got != w {
				t.Fatalf("parseIPv4(%q) = %#x, want %#x", s, got, w)
			}
		}
	}
}

// The IPv4 table counts what a map counts, across growth, with 0.0.0.0
// and neighbouring addresses, and stops at MaxClients.
func TestClientSetV4AgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var set clientSet
	want := map[string]bool{}
	for i := range 3 * MaxClients {
		var a uint32
		switch i % 3 {
		case 0:
			a = uint32(i) // dense: 0.0.0.0, 0.0.0.1, ...
		case 1:
			a = r.Uint32()
		default:
			a = 0xc0000200 | uint32(r.IntN(64)) // repeats
		}
		ip := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}).String()
		if len(want) < MaxClients {
			want[ip] = true
		}
		set.add(ip)
		if set.len() != len(want) {
			t.Fatalf("after %d adds (%s): %d clients, want %d", i+1, ip, set.len(), len(want))
		}
	}
	if set.len() != MaxClients {
		t.Errorf("%d clients, want the cap %d", set.len(), MaxClients)
	}
}

// IPv4 addresses wait to be put in the table, a few at a time: counted
// only now and then, and with other addresses coming between them, the
// set still holds the first MaxClients distinct ones, as a map filled one
// address at a time does, and a merge still counts the union.
func TestClientSetWaitingAddresses(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var set, other clientSet
	want := map[string]bool{}
	for i := range 3 * MaxClients {
		var ip string
		switch n := r.IntN(40); {
		case n == 0:
			ip = "2001:db8::" + strconv.FormatUint(uint64(r.IntN(1<<16)), 16) // kept as text
		case n < 4:
			ip = "192.0.2." + strconv.Itoa(r.IntN(256)) // repeats
		default:
			a := r.Uint32()
			ip = netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}).String()
		}
		if len(want) < MaxClients {
			want[ip] = true
		}
		set.add(ip)
		if i%1000 == 999 && set.len() != len(want) {
			t.Fatalf("after %d adds: %d clients, want %d", i+1, set.len(), len(want))
		}
		if i < 100 {
			other.add(ip)
		}
	}
	set.flush()
	v4 := map[uint32]bool{}
	set.v4.each(func(a uint32) { v4[a] = true })
	for ip := range want {
		a, ok := parseIPv4(ip)
		if _, text := set.other[ip]; ok && !v4[a] || !ok && !text {
			t.Fatalf("%s is not in the set", ip)
		}
	}
	if set.len() != MaxClients {
		t.Errorf("%d clients, want the cap %d", set.len(), MaxClients)
	}
	// Merging the full set into one with some of its first addresses
	// (their IPv4 ones still waiting) fills it to the cap too.
	other.merge(&set)
	if other.len() != MaxClients {
		t.Errorf("merged: %d clients, want the cap %d", other.len(), MaxClients)
	}
}

// The addresses that wait count before any that comes after them: at the
// cap, an address kept as text after IPv4 ones that fill the set is not
// counted, and a merge takes the ones that wait in the set merged from.
func TestClientSetWaitingComeFirst(t *testing.T) {
	var set clientSet
	for i := range MaxClients - 2 {
		set.addV4(uint32(i + 1))
	}
	if n := set.len(); n != MaxClients-2 {
		t.Fatalf("%d clients, want %d", n, MaxClients-2)
	}
	set.addV4(0xc0000201)
	set.addV4(0xc0000202) // both wait: the set is full once they are in
	set.addText("2001:db8::1")
	if n := set.len(); n != MaxClients || len(set.other) != 0 {
		t.Errorf("%d clients, %d kept as text; want %d and none", n, len(set.other), MaxClients)
	}

	var from, into clientSet
	from.addV4(0xc0000201)
	from.addV4(0xc0000202)
	into.addV4(0xc0000202)
	into.merge(&from)
	if n := into.len(); n != 2 {
		t.Errorf("merged: %d clients, want 2", n)
	}
}

// add is what the engine does with a prepared client.
func (c *clientSet) add(ip string) {
	if a, ok := parseIPv4(ip); ok {
		c.addV4(a)
	} else {
		c.addText(ip)
	}
}

// clientIP takes the address out of a client as nginx and Apache write
// it: with or without a port, IPv6 in brackets or bare.
func TestClientIP(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},           // nginx
		{"192.0.2.1:51234", "192.0.2.1"},     // Apache
		{"2001:db8::1", "2001:db8::1"},       // nginx, IPv6
		{"[2001:db8::1]:443", "2001:db8::1"}, // Apache, IPv6
		{"[::1]", "::1"},
		{"[x]", "x"},
		{"[", "["},
		{"a:b:c", "a:b:c"},
		{":", ""},
		{"unix:", "unix"},
		{"", ""},
	} {
		if got := clientIP(tt.in); got != tt.want {
			t.Errorf("clientIP(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
