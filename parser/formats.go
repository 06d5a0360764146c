package parser

import (
	"strings"
	"time"
)

// The header checks below look at fixed positions only: they run on every
// line, including continuation lines that belong to no format.

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// bytesOrString is a line or a record: the header checks run on lines,
// the parsers on records, without converting one into the other.
type bytesOrString interface{ ~string | ~[]byte }

func digitsAt[T bytesOrString](b T, i, n int) bool {
	if i+n > len(b) {
		return false
	}
	for j := i; j < i+n; j++ {
		if !isDigit(b[j]) {
			return false
		}
	}
	return true
}

// nginx: "2006/01/02 15:04:05 [error] 123#123: "
func isNginxHeader(b []byte) bool {
	if len(b) < 27 || b[4] != '/' || b[7] != '/' || b[10] != ' ' || b[13] != ':' || b[16] != ':' || b[19] != ' ' || b[20] != '[' ||
		!isDigit(b[0]) || !isDigit(b[1]) || !isDigit(b[2]) || !isDigit(b[3]) || !isDigit(b[5]) || !isDigit(b[6]) ||
		!isDigit(b[8]) || !isDigit(b[9]) || !isDigit(b[11]) || !isDigit(b[12]) ||
		!isDigit(b[14]) || !isDigit(b[15]) || !isDigit(b[17]) || !isDigit(b[18]) {
		return false
	}
	_, n := nginxLevel(b[21:])
	if n == 0 {
		return false
	}
	i := 21 + n
	return i < len(b) && isDigit(b[i])
}

// nginxLevel reads "error] " and returns the level and the bytes used.
func nginxLevel[T bytesOrString](b T) (Level, int) {
	// Each name is compared as a constant, which takes no call.
	if len(b) < len("crit] ") {
		return LevelNone, 0
	}
	switch b[0] {
	case 'e':
		if len(b) >= len("error] ") && string(b[:len("error] ")]) == "error] " {
			return LevelError, len("error] ")
		}
		if len(b) >= len("emerg] ") && string(b[:len("emerg] ")]) == "emerg] " {
			return LevelEmerg, len("emerg] ")
		}
	case 'w':
		if string(b[:len("warn] ")]) == "warn] " {
			return LevelWarn, len("warn] ")
		}
	case 'n':
		if len(b) >= len("notice] ") && string(b[:len("notice] ")]) == "notice] " {
			return LevelNotice, len("notice] ")
		}
	case 'i':
		if string(b[:len("info] ")]) == "info] " {
			return LevelInfo, len("info] ")
		}
	case 'c':
		if string(b[:len("crit] ")]) == "crit] " {
			return LevelCrit, len("crit] ")
		}
	case 'a':
		if len(b) >= len("alert] ") && string(b[:len("alert] ")]) == "alert] " {
			return LevelAlert, len("alert] ")
		}
	case 'd':
		if len(b) >= len("debug] ") && string(b[:len("debug] ")]) == "debug] " {
			return LevelDebug, len("debug] ")
		}
	}
	return LevelNone, 0
}

// nginx writes "nginx: [emerg] ..." to stderr before its log is open;
// such lines end up in the log when stderr is redirected there.
func isNginxBare(b []byte) bool {
	if len(b) < 10 || string(b[:8]) != "nginx: [" {
		return false
	}
	_, n := nginxLevel(b[8:])
	return n > 0
}

// Apache 2.4: "[Thu Jun 27 11:55:44.569531 2013] [proxy:error] [pid 1"
func isApache24Header(b []byte) bool {
	n := apacheTimeLen(b)
	if n == 0 || n+3 >= len(b) || b[n] != ' ' || b[n+1] != '[' {
		return false
	}
	rest := b[n+2:]
	close := -1
	for i := 0; i < len(rest) && i < 40; i++ {
		if rest[i] == ']' {
			close = i
			break
		}
	}
	if close < 0 {
		return false
	}
	lv := rest[:close]
	if i := lastByte(lv, ':'); i >= 0 {
		lv = lv[i+1:]
	}
	if _, ok := ParseLevel(string(lv)); !ok {
		return false
	}
	rest = rest[close+1:]
	return len(rest) >= 6 && string(rest[:6]) == " [pid "
}

// Apache 2.2: "[Wed Oct 11 14:32:52 2000] [error] "
func isApache22Header(b []byte) bool {
	n := apacheTimeLen(b)
	if n == 0 || n+3 >= len(b) || b[n] != ' ' || b[n+1] != '[' {
		return false
	}
	rest := b[n+2:]
	close := -1
	for i := 0; i < len(rest) && i < 8; i++ {
		if rest[i] == ']' {
			close = i
			break
		}
	}
	if close < 0 {
		return false
	}
	_, ok := ParseLevel(string(rest[:close]))
	return ok && !(len(rest) > close+6 && string(rest[close+1:close+7]) == " [pid ")
}

// apacheTimeLen returns the length of "[Www Mmm dd hh:mm:ss[.uuuuuu] yyyy]"
// at the start of b, or 0.
func apacheTimeLen[T bytesOrString](b T) int {
	// [Thu Jun 27 11:55:44 2013]
	// 0    5   9  12       21
	if len(b) < 26 || b[0] != '[' || b[4] != ' ' || b[8] != ' ' || b[11] != ' ' ||
		!(b[9] == ' ' || isDigit(b[9])) || !isDigit(b[10]) ||
		!digitsAt(b, 12, 2) || b[14] != ':' || !digitsAt(b, 15, 2) || b[17] != ':' || !digitsAt(b, 18, 2) {
		return 0
	}
	if month(b[5:8]) == 0 {
		return 0
	}
	i := 20
	if b[i] == '.' {
		i++
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i+6 > len(b) || b[i] != ' ' || !digitsAt(b, i+1, 4) || b[i+5] != ']' {
		return 0
	}
	return i + 6
}

// php-fpm: "[21-Nov-2026 19:26:09] WARNING: " or with ".123456".
func isFPMHeader(b []byte) bool {
	n := fpmTimeLen(b)
	if n == 0 || n+1 >= len(b) || b[n] != ' ' {
		return false
	}
	_, m := fpmLevel(b[n+1:])
	return m > 0
}

// php-fpm slowlog: "[21-Nov-2026 19:26:08]  [pool www] pid 24168"
func isFPMSlowHeader(b []byte) bool {
	n := fpmTimeLen(b)
	return n > 0 && len(b) > n+8 && string(b[n:n+8]) == "  [pool "
}

// Child output with decorate_workers_output = no, or a child's own zlog
// line: "NOTICE: PHP message: ...", no time.
func isFPMBare(b []byte) bool {
	_, m := fpmLevel(b)
	return m > 0
}

func fpmTimeLen[T bytesOrString](b T) int {
	// [21-Nov-2026 19:26:09]
	if len(b) < 22 || b[0] != '[' || !digitsAt(b, 1, 2) || b[3] != '-' || b[7] != '-' ||
		!digitsAt(b, 8, 4) || b[12] != ' ' || !digitsAt(b, 13, 2) || b[15] != ':' ||
		!digitsAt(b, 16, 2) || b[18] != ':' || !digitsAt(b, 19, 2) {
		return 0
	}
	if month(b[4:7]) == 0 {
		return 0
	}
	i := 21
	if b[i] == '.' {
		i++
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i >= len(b) || b[i] != ']' {
		return 0
	}
	return i + 1
}

func fpmLevel[T bytesOrString](b T) (Level, int) {
	for _, c := range [...]struct {
		s string
		l Level
	}{{"WARNING: ", LevelWarn}, {"NOTICE: ", LevelNotice}, {"ERROR: ", LevelError}, {"ALERT: ", LevelAlert}, {"DEBUG: ", LevelDebug}} {
		if len(b) >= len(c.s) && string(b[:len(c.s)]) == c.s {
			return c.l, len(c.s)
		}
	}
	return LevelNone, 0
}

func lastByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func month[T bytesOrString](b T) int {
	if len(b) != 3 {
		return 0
	}
	for i, m := range months {
		if string(b) == m {
			return i + 1
		}
	}
	return 0
}

// atoi reads the decimal digits at the start of s, at most 18 of them.
// One unsigned comparison tests a byte for a digit, and the bound is
// checked once: a header has three numbers, so this runs for every
// digit of every record.
func atoi(s string) (int64, int) {
	var n int64
	s = s[:min(len(s), 18)]
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return n, i
		}
		n = n*10 + int64(d)
	}
	return n, len(s)
}

func num(s string) int {
	n, _ := atoi(s)
	return int(n)
}

// mktime builds a time in the parser's zone. time.Date is the costly part
// of parsing a line, so the start of the hour is cached.
func (p *Parser) mktime(y, mo, d, h, mi, s, ns int) time.Time {
	key := [4]int{y, mo, d, h}
	if key != p.hourKey || p.hourBase.IsZero() {
		p.hourKey = key
		p.hourBase = time.Date(y, time.Month(mo), d, h, 0, 0, 0, p.loc)
	}
	if mi > 59 || s > 60 {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, p.loc)
	}
	return p.hourBase.Add(time.Duration(mi)*time.Minute + time.Duration(s)*time.Second + time.Duration(ns))
}

// micros reads up to 9 fraction digits as nanoseconds.
func nanos(s string) int {
	ns := 0
	n := 0
	for n < len(s) && n < 9 && isDigit(s[n]) {
		ns = ns*10 + int(s[n]-'0')
		n++
	}
	for i := n; i < 9; i++ {
		ns *= 10
	}
	return ns
}

// ---- nginx ----

// twoDigits reads the two decimal digits at s[i:], which a header check
// has seen there.
func twoDigits(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

func (p *Parser) parseNginx(e *Entry) bool {
	s := e.Raw
	e.Format, e.Server = FormatNginx, Nginx
	var rest string
	if p.pendBare {
		// "nginx: [emerg] message"
		l, n := nginxLevel(s[8:])
		if n == 0 {
			return false
		}
		e.Level = l
		rest = s[8+n:]
	} else {
		// isNginxHeader saw the digits of "2006/01/02 15:04:05". The
		// records of one second share their time: the first converts it.
		if t := s[:19]; t == string(p.stamp[:]) {
			e.Time = p.stampTime
		} else {
			e.Time = p.mktime(twoDigits(t, 0)*100+twoDigits(t, 2), twoDigits(t, 5), twoDigits(t, 8),
				twoDigits(t, 11), twoDigits(t, 14), twoDigits(t, 17), 0)
			copy(p.stamp[:], t)
			p.stampTime = e.Time
		}
		l, n := nginxLevel(s[21:min(len(s), 30)])
		if n == 0 {
			return false
		}
		e.Level = l
		rest = s[21+n:]
		pid, k := atoi(rest)
		if k == 0 || k >= len(rest) || rest[k] != '#' {
			return false
		}
		e.PID = pid
		rest = rest[k+1:]
		tid, k := atoi(rest)
		if k == 0 || !strings.HasPrefix(rest[k:], ": ") {
			return false
		}
		e.TID = tid
		rest = rest[k+2:]
		if strings.HasPrefix(rest, "*") {
			if c, k := atoi(rest[1:]); k > 0 && strings.HasPrefix(rest[1+k:], " ") {
				e.Conn = c
				rest = rest[k+2:]
			}
		}
	}
	msg := rest
	if start, i := nginxContext(e, rest); start >= 0 {
		msg = rest[:start]
	} else if i >= 0 && !hasSpaceOrQuote(rest[i+len(resolverKey):]) {
		msg = rest[:i]
		e.Upstream = rest[i+len(resolverKey):]
	}
	e.Message = msg
	var core string
	e.Action, core = p.actions.split(msg)
	nginxErrno(e, core)
	return true
}

// nginxAction splits the " while ..." action off the end of msg, and
// returns it and what comes before it; no action: "" and msg. An action
// is at most maxAction letters and spaces after the last " while ", so a
// look back from the end over such bytes finds it, and stops at the
// first other byte.
func nginxAction(msg string) (action, core string) {
	stop := max(0, len(msg)-len(" while ")-maxAction)
	for i := len(msg) - 1; i >= stop; i-- {
		switch c := msg[i]; {
		case c == ' ':
			if strings.HasPrefix(msg[i:], " while ") {
				if i+len(" while ") == len(msg) {
					return "", msg
				}
				return msg[i+len(" while "):], msg[:i]
			}
		case 'a' <= c|0x20 && c|0x20 <= 'z': // a letter
		default:
			return "", msg
		}
	}
	return "", msg
}

// recentActions are the last actions nginxAction found, the latest
// first, each a copy. nginx has a few actions, and most records with one
// carry one seen a moment ago: comparing the end of the message with it
// is much cheaper than looking for " while " byte by byte.
type recentActions [8]string

// split is nginxAction(msg). An action a that nginxAction returned is
// not empty, at most maxAction letters and spaces, and " while "+a holds
// no " while " but at its start; so for any msg that ends in " while "+a,
// the " while " there is the last one, and a is msg's action.
func (r *recentActions) split(msg string) (action, core string) {
	if len(msg) == 0 || !actionByte[msg[len(msg)-1]] {
		return "", msg
	}
	for i, a := range r {
		if a == "" {
			break
		}
		n := len(msg) - len(a) - len(" while ")
		if n >= 0 && msg[n:n+len(" while ")] == " while " && msg[n+len(" while "):] == a {
			copy(r[1:i+1], r[:i])
			r[0] = a
			return msg[n+len(" while "):], msg[:n]
		}
	}
	action, core = nginxAction(msg)
	if action != "" {
		copy(r[1:], r[:len(r)-1])
		r[0] = strings.Clone(action) // msg's block is read into again
	}
	return action, core
}

// actionByte holds the bytes of an action: letters and the space.
var actionByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	t[' '] = true
	return t
}()

// maxAction is the longest " while ..." action nginxAction accepts.
const maxAction = 64

// nginxErrno reads " (111: Connection refused)" at the end of s.
func nginxErrno(e *Entry, s string) {
	if !strings.HasSuffix(s, ")") {
		return
	}
	i := lastSpaceParen(s)
	if i < 0 {
		return
	}
	in := s[i+2 : len(s)-1]
	n, k := atoi(in)
	if k == 0 || !strings.HasPrefix(in[k:], ": ") {
		return
	}
	e.Errno = int(n)
	e.ErrText = in[k+2:]
}

// lastIndex is strings.LastIndex for a non-empty separator that starts
// with a byte rare in s, like ", referer: ": repeated forward searches,
// which skip through s many times faster than the backward one.
func lastIndex(s, sep string) int {
	last := -1
	for from := 0; ; {
		i := strings.Index(s[from:], sep)
		if i < 0 {
			return last
		}
		last = from + i
		from = last + 1
	}
}

// errnoTail is how near the end of a message lastSpaceParen looks first.
// " (N: text)" with the longest of Linux's errno texts ("Invalid or
// incomplete multibyte or wide character") is 57 bytes; a longer one is
// still found, by the search of the bytes before.
const errnoTail = 64

// lastSpaceParen is strings.LastIndex(s, " ("). The errno of a message is
// at its end: the last errnoTail bytes are searched first, forward, with
// IndexByte, which takes many bytes a step where a backward search takes
// one; the rest only when they hold none.
func lastSpaceParen(s string) int {
	from := max(len(s)-errnoTail, 0)
	last := -1
	for i := from; ; i++ {
		j := strings.IndexByte(s[i:], '(')
		if j < 0 {
			break
		}
		if i += j; i > 0 && s[i-1] == ' ' {
			last = i - 1
		}
	}
	if last >= 0 {
		return last
	}
	for end := from; ; {
		j := strings.LastIndexByte(s[:end], '(')
		if j < 1 {
			return -1
		}
		if s[j-1] == ' ' {
			return j - 1
		}
		end = j
	}
}

// The keys of the nginx context. The code compares them in place,
// len(t) >= len(key) && t[:len(key)] == key, rather than with
// strings.HasPrefix: a comparison with a constant is a few loads, where
// strings.HasPrefix calls memequal for a prefix over eight bytes.
const (
	clientKey         = ", client: "
	udpClientKey      = ", udp client: "
	serverKey         = ", server: "
	resolverKey       = ", resolver: "
	upstreamKey       = ", upstream: " // the stream module's, unquoted
	bytesKey          = ", bytes from/to"
	requestKey        = `, request: "`
	subrequestKey     = `, subrequest: "`
	quotedUpstreamKey = `, upstream: "`
	hostKey           = `, host: "`
	referrerKey       = `, referrer: "`
)

// nginxContext reads the context fields that nginx appends to a message,
// ", client: ADDR, server: NAME, request: "..."" and the other quoted
// keys, from s, the text after the record's header, into e. It returns
// where they start in s, -1 for none, and where the last ", resolver: "
// starts, -1 for none (the context of a resolver's record).
//
// The context is the last ", client: " (or the stream module's ", udp
// client: ") that is real, since a log line may quote text that itself
// contains ", client: ". A client address and a server name hold no
// spaces, quotes or newlines, which is what tells the real one apart:
// text that only quotes a context has them (the request line after it).
//
// One pass goes from comma to comma, which is fast: it checks each
// ", client: " it meets, starting over from a real one, and reads the
// fields after it on the way, since every field ends at a comma: server:
// at the first key, a quoted value at the first quote that a later key
// follows (or the end; a value cut by nginx's 2048-byte limit has no
// closing quote and runs to the end).
func nginxContext(e *Entry, s string) (start, resolver int) {
	start, resolver = -1, -1
	vhost := -1       // the start of server:'s value, while it is read
	key, val := -1, 0 // the quoted key whose value is read, and its start
	for from := 0; ; {
		j := strings.IndexByte(s[from:], ',')
		if j < 0 {
			break
		}
		at := from + j
		from = at + 1
		if len(s)-at < 3 || s[at+1] != ' ' {
			continue
		}
		t := s[at:]
		switch {
		case key >= 0:
			if at-1 < val || s[at-1] != '"' {
				break
			}
			if k := nginxKeyAt(t); k > key {
				*nginxField(e, key) = s[val : at-1]
				key, val = k, at+len(nginxKeyPrefixes[k])
				continue
			}
			if len(t) >= len(bytesKey) && t[:len(bytesKey)] == bytesKey { // the stream module's counters
				*nginxField(e, key) = s[val : at-1]
				key = -1
				continue
			}
		case vhost >= 0:
			if k := nginxKeyAt(t); k >= 0 {
				e.VHost, vhost = s[vhost:at], -1
				key, val = k, at+len(nginxKeyPrefixes[k])
				continue
			}
			if len(t) >= len(upstreamKey) && t[:len(upstreamKey)] == upstreamKey { // the stream module's, unquoted
				e.VHost, vhost = s[vhost:at], -1
				continue
			}
		}
		var addr int
		// The third byte first: most commas are followed by none of these.
		switch t[2] {
		case 'c':
			if len(t) < len(clientKey) || t[:len(clientKey)] != clientKey {
				continue
			}
			addr = at + len(clientKey)
		case 'u':
			if len(t) < len(udpClientKey) || t[:len(udpClientKey)] != udpClientKey {
				continue
			}
			addr = at + len(udpClientKey)
		case 'r':
			if len(t) >= len(resolverKey) && t[:len(resolverKey)] == resolverKey {
				resolver = at
			}
			continue
		default:
			continue
		}
		addrEnd, server, serverEnd, ok := nginxClient(s, addr)
		if !ok {
			continue
		}
		if start >= 0 { // a later real one: what was read after the first is not context
			e.VHost, e.Request, e.Subrequest, e.Upstream, e.Host, e.Referrer = "", "", "", "", "", ""
		}
		start, e.Client, vhost, key = at, s[addr:addrEnd], server, -1
		// There is no ", " up to the end of the server name.
		from = serverEnd
	}
	if key >= 0 {
		*nginxField(e, key) = strings.TrimSuffix(s[val:], `"`)
	}
	if vhost >= 0 {
		e.VHost = s[vhost:]
	}
	return start, resolver
}

// nginxClient reads the client address at s[addr:] and the server name
// after it: a real address runs to ", server: " or to the end, a real
// name to the next ", " or to the end, the address is not empty and
// neither holds a space, quote or newline. It returns the end of the
// address, the start of the name (-1 without ", server: ") and the ", "
// after it (or the end of s).
func nginxClient(s string, addr int) (addrEnd, server, serverEnd int, ok bool) {
	// The first space is that of ", server: ", right after the address,
	// and the next one that of the ", " after the name.
	sp := strings.IndexByte(s[addr:], ' ')
	if sp < 0 {
		return len(s), -1, len(s), len(s) > addr && !hasQuoteOrNewline(s[addr:])
	}
	addrEnd = addr + sp - 1
	if t := s[addrEnd:]; addrEnd <= addr || len(t) < len(serverKey) || t[:len(serverKey)] != serverKey {
		return 0, 0, 0, false
	}
	server, serverEnd = addrEnd+len(serverKey), len(s)
	if sp = strings.IndexByte(s[server:], ' '); sp >= 0 {
		serverEnd = server + sp - 1
		if sp == 0 || s[serverEnd] != ',' {
			return 0, 0, 0, false
		}
	}
	return addrEnd, server, serverEnd, !hasQuoteOrNewline(s[addr:serverEnd])
}

// hasQuoteOrNewline reports whether s holds a double quote or a newline.
func hasQuoteOrNewline(s string) bool {
	return strings.IndexByte(s, '"') >= 0 || strings.IndexByte(s, '\n') >= 0
}

// hasSpaceOrQuote reports whether s holds a space, a double quote or a
// newline.
func hasSpaceOrQuote(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '"' || c == '\n' {
			return true
		}
	}
	return false
}

// The quoted keys nginx writes after server:, in the order it writes
// them: an index in nginxKeyPrefixes.
const (
	keyRequest = iota
	keySubrequest
	keyUpstream
	keyHost
	keyReferrer
)

// nginxKeyPrefixes are the quoted keys as they stand in a line.
var nginxKeyPrefixes = [...]string{requestKey, subrequestKey, quotedUpstreamKey, hostKey, referrerKey}

// nginxKeyAt returns the quoted key that s starts with, -1 for none.
func nginxKeyAt(s string) int {
	if len(s) < 3 {
		return -1
	}
	switch s[2] { // the key's first letter
	case 'r':
		if len(s) >= len(requestKey) && s[:len(requestKey)] == requestKey {
			return keyRequest
		}
		if len(s) >= len(referrerKey) && s[:len(referrerKey)] == referrerKey {
			return keyReferrer
		}
	case 's':
		if len(s) >= len(subrequestKey) && s[:len(subrequestKey)] == subrequestKey {
			return keySubrequest
		}
	case 'u':
		if len(s) >= len(quotedUpstreamKey) && s[:len(quotedUpstreamKey)] == quotedUpstreamKey {
			return keyUpstream
		}
	case 'h':
		if len(s) >= len(hostKey) && s[:len(hostKey)] == hostKey {
			return keyHost
		}
	}
	return -1
}

// nginxField returns the field of e that quoted key k fills.
func nginxField(e *Entry, k int) *string {
	switch k {
	case keyRequest:
		return &e.Request
	case keySubrequest:
		return &e.Subrequest
	case keyUpstream:
		return &e.Upstream
	case keyHost:
		return &e.Host
	}
	return &e.Referrer
}

// ---- Apache ----

func (p *Parser) parseApacheTime(e *Entry, s string) (int, bool) {
	n := apacheTimeLen(s[:min(len(s), 40)])
	if n == 0 {
		return 0, false
	}
	// [Thu Jun 27 11:55:44.569531 2013]
	day := num(strings.TrimLeft(s[9:11], " "))
	ns := 0
	if s[20] == '.' {
		ns = nanos(s[21:])
	}
	year := num(s[n-5 : n-1])
	e.Time = p.mktime(year, month(s[5:8]), day, num(s[12:14]), num(s[15:17]), num(s[18:20]), ns)
	return n, true
}

func (p *Parser) parseApache24(e *Entry) bool {
	s := e.Raw
	e.Format, e.Server = FormatApache24, Apache
	n, ok := p.parseApacheTime(e, s)
	if !ok {
		return false
	}
	s = s[n+2:] // past "] ["
	close := strings.IndexByte(s, ']')
	if close < 0 {
		return false
	}
	ml := s[:close]
	if i := strings.LastIndexByte(ml, ':'); i >= 0 {
		e.Module = ml[:i]
		ml = ml[i+1:]
	}
	if e.Level, ok = ParseLevel(ml); !ok {
		return false
	}
	s = s[close+1:]
	if !strings.HasPrefix(s, " [pid ") {
		return false
	}
	s = s[6:]
	close = strings.IndexByte(s, ']')
	if close < 0 {
		return false
	}
	pt := s[:close]
	if i := strings.Index(pt, ":tid "); i >= 0 {
		e.TID, _ = atoi(pt[i+5:])
		pt = pt[:i]
	}
	e.PID, _ = atoi(pt)
	s = strings.TrimPrefix(s[close+1:], " ")
	s = apacheSourceLoc(s)
	s = apacheStatus(e, s)
	s = apacheClient(e, s)
	apacheMessage(e, s)
	return true
}

func (p *Parser) parseApache22(e *Entry) bool {
	s := e.Raw
	e.Format, e.Server = FormatApache22, Apache
	n, ok := p.parseApacheTime(e, s)
	if !ok {
		return false
	}
	s = s[n+2:]
	close := strings.IndexByte(s, ']')
	if close < 0 {
		return false
	}
	if e.Level, ok = ParseLevel(s[:close]); !ok {
		return false
	}
	s = strings.TrimPrefix(s[close+1:], " ")
	s = apacheSourceLoc(s)
	// 2.2 writes [client] before the status, 2.4 after it.
	s = apacheClient(e, s)
	s = apacheStatus(e, s)
	apacheMessage(e, s)
	return true
}

// apacheSourceLoc skips "proxy_util.c(2573): " (debug and trace levels).
func apacheSourceLoc(s string) string {
	sp := strings.IndexByte(s, ' ')
	if sp > 3 && strings.HasSuffix(s[:sp], "):") {
		if o := strings.IndexByte(s[:sp], '('); o > 0 {
			if _, k := atoi(s[o+1:]); k > 0 && o+1+k == sp-2 {
				return s[sp+1:]
			}
		}
	}
	return s
}

// apacheStatus reads "(111)Connection refused: ", "(70007)The timeout
// specified has expired: ", "(EAI 2)Name or service not known: ".
func apacheStatus(e *Entry, s string) string {
	if !strings.HasPrefix(s, "(") {
		return s
	}
	close := strings.IndexByte(s, ')')
	if close < 2 || close > 24 {
		return s
	}
	code := s[1:close]
	var errno int64
	switch {
	case strings.HasPrefix(code, "EAI "), strings.HasPrefix(code, "OS "), strings.HasPrefix(code, "os 0x"):
	default:
		c := strings.TrimPrefix(code, "-")
		n, k := atoi(c)
		if k == 0 || k != len(c) {
			return s
		}
		errno = n
		if c != code {
			errno = -n
		}
	}
	text := s[close+1:]
	colon := strings.Index(text, ": ")
	if colon < 0 {
		return s
	}
	e.Status = code
	e.Errno = int(errno)
	e.ErrText = text[:colon]
	return text[colon+2:]
}

func apacheClient(e *Entry, s string) string {
	for _, pre := range [...]string{"[client ", "[remote "} {
		if strings.HasPrefix(s, pre) {
			close := strings.IndexByte(s, ']')
			if close < 0 {
				return s
			}
			e.Client = s[len(pre):close]
			return strings.TrimPrefix(s[close+1:], " ")
		}
	}
	return s
}

func apacheMessage(e *Entry, s string) {
	if i := lastIndex(s, ", referer: "); i >= 0 {
		e.Referrer = s[i+11:]
		s = s[:i]
	}
	e.Message = s
	if strings.HasPrefix(s, "AH") {
		_, k := atoi(s[2:])
		if (k == 5 || k == 6) && strings.HasPrefix(s[2+k:], ": ") {
			e.AHCode = s[:2+k]
		}
	}
}

// parseBare handles a line with no known header. In an Apache log that is
// a startup message written without prefix:
// "(98)Address already in use: AH00072: make_sock: could not bind ...".
func (p *Parser) parseBare(e *Entry) bool {
	format := p.format
	if format == FormatAuto && p.opt.Format == FormatAuto {
		// An AH code is Apache's alone: a log that starts with startup
		// messages (after a failed start) is still an Apache log.
		format = FormatApache24
	}
	if format != FormatApache24 && format != FormatApache22 {
		return false
	}
	s := apacheStatus(e, e.Raw)
	apacheMessage(e, s)
	if e.AHCode == "" && s != "no listening sockets available, shutting down" {
		e.Status, e.Errno, e.ErrText, e.Message, e.Referrer = "", 0, "", "", ""
		return false
	}
	e.Format, e.Server = format, Apache
	if p.format == FormatAuto {
		p.format = format
	}
	return true
}

// ---- php-fpm ----

func (p *Parser) parseFPMTime(e *Entry, s string) int {
	n := fpmTimeLen(s[:min(len(s), 32)])
	if n == 0 {
		return 0
	}
	ns := 0
	if s[21] == '.' {
		ns = nanos(s[22:])
	}
	e.Time = p.mktime(num(s[8:12]), month(s[4:7]), num(s[1:3]), num(s[13:15]), num(s[16:18]), num(s[19:21]), ns)
	return n
}

func (p *Parser) parseFPM(e *Entry) bool {
	s := e.Raw
	e.Format, e.Server = FormatFPM, FPM
	if !p.pendBare {
		n := p.parseFPMTime(e, s)
		if n == 0 {
			return false
		}
		s = s[n+1:]
	}
	l, m := fpmLevel(s[:min(len(s), 10)])
	if m == 0 {
		return false
	}
	e.Level = l
	s = s[m:]
	// log_level = debug: "pid 812, fpm_pctl_perform_idle_server_maintenance(), line 383: "
	if strings.HasPrefix(s, "pid ") {
		if pid, k := atoi(s[4:]); k > 0 && strings.HasPrefix(s[4+k:], ", ") {
			t := s[6+k:]
			if i := strings.Index(t, "(), line "); i > 0 && !strings.ContainsAny(t[:i], " ") {
				if _, k2 := atoi(t[i+9:]); k2 > 0 && strings.HasPrefix(t[i+9+k2:], ": ") {
					e.PID = pid
					s = t[i+11+k2:]
				}
			}
		}
	}
	s = fpmPool(e, s)
	e.Message = s
	if rest, ok := strings.CutPrefix(s, "child "); ok {
		if c, k := atoi(rest); k > 0 && (k == len(rest) || rest[k] == ' ' || rest[k] == ',') {
			e.Child = c
		}
	}
	// ZLOG_SYSERROR: "...: No such file or directory (2)"
	if strings.HasSuffix(s, ")") {
		if o := lastSpaceParen(s); o >= 0 {
			if n, k := atoi(s[o+2:]); k > 0 && o+2+k == len(s)-1 {
				if c := strings.LastIndex(s[:o], ": "); c >= 0 {
					e.Errno = int(n)
					e.ErrText = s[c+2 : o]
				}
			}
		}
	}
	return true
}

func fpmPool(e *Entry, s string) string {
	if strings.HasPrefix(s, "[pool ") {
		if close := strings.IndexByte(s, ']'); close > 6 {
			e.Pool = s[6:close]
			return strings.TrimPrefix(s[close+1:], " ")
		}
	}
	return s
}

func (p *Parser) parseFPMSlow(e *Entry) bool {
	s := e.Raw
	e.Format, e.Server = FormatFPMSlow, FPM
	n := p.parseFPMTime(e, s)
	if n == 0 {
		return false
	}
	s = fpmPool(e, s[n+2:])
	head, body, _ := strings.Cut(s, "\n")
	if c, ok := strings.CutPrefix(head, "pid "); ok {
		e.Child, _ = atoi(c)
	}
	e.Message = strings.TrimLeft(body, "\n")
	return true
}
