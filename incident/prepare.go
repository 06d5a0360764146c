package incident

import (
	"hash/maphash"
	"math/bits"
	"strings"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// Prepared is the part of the engine's work on a record that needs
// nothing but the record and its match: which incident it is about, the
// keys it is counted under, their hashes. Prepare computes it on any
// goroutine, so a pipeline can do it on every core before the records
// are put in time order, and the engine, which takes them one at a time
// in that order, has less left to do per record.
//
// Its strings may be parts of the record's text: it belongs with its
// record, and the engine copies what it keeps. It is small, a string and
// numbers: a pipeline keeps one per record in flight.
type Prepared struct {
	// text is the subject of the incident the record is about, or, for
	// a severe record no rule matched (unknown), its template.
	text string

	vhostHash   uint64  // of vhostOf(en), when not ""
	requestHash uint64  // of en.Request, when not ""
	at          instant // of en.Time
	clientV4    uint32  // the client's IPv4 address, for clientV4

	group     groupFrom // noGroup: the record makes no incident
	kind      kindFrom
	slot      uint8      // of the incident's key in Engine.found (foundSlot)
	client    clientKind // noClient, clientV4 or clientText
	unknown   bool
	groupName bool // a backend subject that names an upstream{} group
	script    bool // a slow or killed request names its script (scriptOf)
	fastcgi   bool // the record is about a FastCGI backend
}

// groupFrom says where an incident's group comes from.
type groupFrom uint8

const (
	noGroup      groupFrom = iota
	groupRule              // the rule's group
	groupRuleID            // the rule's id
	groupBackend           // "backend": one backend, one incident
)

func (g groupFrom) of(r *rules.Rule) string {
	switch g {
	case groupRule:
		return r.Group
	case groupRuleID:
		return r.ID
	case groupBackend:
		return "backend"
	}
	return ""
}

// kindFrom says what kind of subject an incident has.
type kindFrom uint8

const (
	kindRule     kindFrom = iota // the rule's subject kind
	kindUpstream                 // "upstream"
	kindProcess                  // "process"
	kindVHost                    // "vhost"
)

func (k kindFrom) of(r *rules.Rule) string {
	switch k {
	case kindUpstream:
		return "upstream"
	case kindProcess:
		return "process"
	case kindVHost:
		return "vhost"
	}
	return r.SubjectKind
}

// clientKind says how a record names its client.
type clientKind uint8

const (
	noClient   clientKind = iota
	clientV4              // an IPv4 address in its canonical dotted form
	clientText            // any other address
)

// Prepare computes p from a record and its match (nil when no rule
// matched), for Engine.AddPrepared. It is safe for concurrent use.
func Prepare(en *parser.Entry, m *rules.Match, p *Prepared) {
	*p = Prepared{at: instantOf(en.Time)}
	if m == nil {
		if !en.Unparsed && rules.Severe(en) {
			p.unknown, p.text = true, Mask(en.Message)
		}
		return
	}
	r := m.Rule
	if r.Marker != "" || r.Category == "lifecycle" {
		return
	}
	p.group, p.text, p.kind = classify(en, m)
	group := p.group.of(r)
	p.slot = foundSlot(group, p.text)
	p.groupName = group == "backend" && isGroupName(p.text)
	if v := vhostOf(en); v != "" {
		p.vhostHash = hashString(v)
	}
	if en.Request != "" {
		p.requestHash = hashString(en.Request)
	}
	p.script = scriptOf(m) != ""
	if en.Client != "" {
		p.client = clientText
		if a, ok := parseIPv4(clientIP(en.Client)); ok {
			p.client, p.clientV4 = clientV4, a
		}
	}
	// nginx names the scheme of its upstream; Apache the module, or, for
	// a socket mod_proxy connects to for mod_proxy_fcgi, "FCGI:" in the
	// message (AH02454). Only Apache's messages are searched: another
	// server's may quote the word.
	p.fastcgi = strings.HasPrefix(en.Upstream, "fastcgi://") ||
		en.Server == parser.Apache && (en.Module == "proxy_fcgi" || strings.Contains(en.Message, "FCGI:"))
}

// vhostOf is the site a record is about: nginx's server:, else the Host
// the client asked for.
func vhostOf(en *parser.Entry) string {
	if en.VHost == "" || en.VHost == "_" {
		return en.Host
	}
	return en.VHost
}

// scriptOf is the script a slow or killed php-fpm request names, or "".
// The slowlog repeats the slow ones, with no child: they are not
// counted again.
func scriptOf(m *rules.Match) string {
	if s := m.Capture("script"); s != "" && m.Capture("child") != "" {
		return s
	}
	return ""
}

// isBackend reports the categories whose rules describe the path from
// the web server to its backend: one backend, one incident.
func isBackend(category string) bool {
	switch category {
	case "upstream", "capacity", "tls", "dns":
		return true
	}
	return false
}

// classify returns where the problem group comes from, the subject the
// incident is about and its kind. A pool subject is still a pool name
// here; find maps it to the backend it serves.
func classify(en *parser.Entry, m *rules.Match) (group groupFrom, subject string, kind kindFrom) {
	r := m.Rule
	group, kind, subject = groupRule, kindRule, m.Subject
	backend := isBackend(r.Category) || (r.SubjectKind == "pool" && r.HasServer(parser.FPM))
	if r.Group == "" {
		group = groupRuleID
		if backend {
			group = groupBackend
		}
	}
	switch {
	case backend:
		if r.SubjectKind != "pool" {
			subject = canonicalAddr(subject)
		}
	case r.Category == "application":
		// PHP errors: one incident per kind of error and backend, with
		// the scripts listed, rather than one per script.
		subject, kind = en.UpstreamPeer(), kindUpstream
		if subject == "" {
			subject, kind = en.Server.String(), kindProcess
			if en.Module != "" {
				subject = en.Module
			}
		}
	case r.Category == "static" || r.Category == "client":
		// Scanners probe many paths: one incident per kind and site.
		subject, kind = en.VHost, kindVHost
		if subject == "" {
			subject, kind = en.Server.String(), kindProcess
		}
	}
	if subject == "" {
		subject, kind = en.Server.String(), kindProcess
	}
	return group, subject, kind
}

// hashSeed seeds the hashes of Prepared. They only find things in the
// engine's tables, which keep what they count in the order it came, so
// no output depends on the seed.
var hashSeed = maphash.MakeSeed()

func hashString(s string) uint64 { return maphash.String(hashSeed, s) }

// foundSlot is the slot of an incident's key in the engine's cache of
// the incidents it found. Keys that share one only share that slot, so
// it is made cheaply, of the lengths, the group's last byte and the
// subject's first and last eight bytes: where subjects (addresses,
// socket paths, site names) and the groups of one subject (rule ids)
// differ.
func foundSlot(group, subject string) uint8 {
	h := uint64(len(group))<<56 | uint64(len(subject))<<48
	if n := len(group); n > 0 {
		h |= uint64(group[n-1]) << 40
	}
	h ^= word(subject)
	if n := len(subject); n > 8 {
		h ^= bits.RotateLeft64(word(subject[n-8:]), 31)
	}
	return uint8((h * 0x9e3779b97f4a7c15) >> 56)
}

// word is the first eight bytes of s (fewer when it is shorter) as a
// little-endian number.
func word(s string) uint64 {
	if len(s) >= 8 {
		return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	}
	var w uint64
	for i := range len(s) {
		w |= uint64(s[i]) << (8 * i)
	}
	return w
}

// isGroupName reports a backend subject that is an upstream{} group name:
// no port, no socket path.
func isGroupName(s string) bool {
	// A loop, not strings.ContainsAny, which builds its set of bytes at
	// every call: this runs for every record about a backend.
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':', '/', '[':
			return false
		}
	}
	return true
}
