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

// add is what the engine does with a prepared client.
func (c *clientSet) add(ip string) {
	if a, ok := parseIPv4(ip); ok {
		c.addV4(a)
	} else {
		c.addText(ip)
	}
}

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
