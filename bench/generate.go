// Package bench is logtriage's end-to-end benchmark: a deterministic
// generator of a day of realistic nginx and php-fpm error logs (run it
// with bench/gen), the runner that times logtriage against grep and gzip
// on them (bench/run, `make bench-e2e`), and Go benchmarks of the rule
// matching and incident stages over the same lines.
//
// The generated lines copy the shapes of the real server output in
// testdata/corpus: several outages over one day (upstream refused on TCP
// and on unix sockets, php-fpm saturation with its max_children warnings,
// read timeouts, oversized headers, PHP fatals with stack traces) over a
// background of static 404/403s, client aborts, rate limiting and some
// errors no rule knows. The same Config always yields the same bytes.
package bench

import (
	"bufio"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Config says what to generate.
type Config struct {
	// Lines is the number of physical lines of the nginx error log
	// (continuation lines of PHP stack traces included).
	Lines int
	// Seed seeds the PCG generator; the same Config gives the same bytes.
	Seed uint64
	// Day is the day the logs cover, from 00:00:00 to 23:59:59. Only its
	// date counts: the servers write wall-clock time without a zone.
	Day time.Time
}

// DefaultDay is the day of the corpus the generated lines imitate.
var DefaultDay = time.Date(2026, time.November, 21, 0, 0, 0, 0, time.UTC)

// Stats says what Generate wrote.
type Stats struct {
	NginxLines, NginxBytes int64
	FPMLines, FPMBytes     int64
	SlowLines, SlowBytes   int64
	// Records counts nginx records by kind (see the kind constants' names
	// in KindNames).
	Records [numKinds]int64
}

// Generate writes the nginx error log to nginx, the php-fpm master log
// to fpm and the php-fpm slow log to slow.
func Generate(cfg Config, nginx, fpm, slow io.Writer) (Stats, error) {
	if cfg.Day.IsZero() {
		cfg.Day = DefaultDay
	}
	g := newGen(cfg)
	nw := &countWriter{w: nginx}
	fw := &countWriter{w: fpm}
	sw := &countWriter{w: slow}
	g.nw = bufio.NewWriterSize(nw, 1<<20)
	g.fw = bufio.NewWriterSize(fw, 64<<10)
	g.sw = bufio.NewWriterSize(sw, 64<<10)
	g.run()
	for _, w := range []*bufio.Writer{g.nw, g.fw, g.sw} {
		if err := w.Flush(); err != nil {
			return Stats{}, err
		}
	}
	st := g.stats
	st.NginxBytes, st.FPMBytes, st.SlowBytes = nw.n, fw.n, sw.n
	if err := firstErr(nw.err, fw.err, sw.err); err != nil {
		return st, err
	}
	return st, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// ---------------------------------------------------------------------------
// The day: a background whose rate follows the traffic of a European shop
// (quiet at night, busy in the evening), and outages at fixed times, each
// with its share of the nginx lines and a shape over its window.

const daySeconds = 86400

// outageKind names what goes wrong.
type outageKind uint8

const (
	tcpRefused      outageKind = iota // the API backend is down: connect() failed (111)
	socketMissing                     // php-fpm restarted by an upgrade: unix socket gone (2)
	fpmSaturated                      // pool www out of children: (11: Resource temporarily unavailable)
	readTimeout                       // the API backend hangs: upstream timed out while reading
	tooBigHeader                      // the SSO backend sends huge cookies
	phpFatal                          // a bad deploy: PHP fatals with stack traces
	fpmTCPSaturated                   // pool api (TCP) out of children: connect timeouts
	staleSocket                       // php-fpm crashed and left its socket: (111) on unix
)

type outage struct {
	kind   outageKind
	start  int     // second of the day
	dur    int     // seconds
	share  float64 // of the nginx lines
	bursty bool
}

// schedule is the day's outages, in time order.
var schedule = []outage{
	{kind: tcpRefused, start: 2*3600 + 13*60 + 20, dur: 240, share: 0.05},
	{kind: socketMissing, start: 4*3600 + 47*60 + 5, dur: 150, share: 0.03},
	{kind: fpmSaturated, start: 9*3600 + 12*60 + 40, dur: 840, share: 0.12, bursty: true},
	{kind: readTimeout, start: 11*3600 + 31*60 + 10, dur: 420, share: 0.05},
	{kind: tooBigHeader, start: 13*3600 + 5*60 + 30, dur: 300, share: 0.03},
	{kind: phpFatal, start: 15*3600 + 40*60, dur: 540, share: 0.06},
	{kind: fpmTCPSaturated, start: 18*3600 + 22*60 + 15, dur: 660, share: 0.08, bursty: true},
	{kind: staleSocket, start: 21*3600 + 4*60 + 50, dur: 180, share: 0.03},
	{kind: fpmSaturated, start: 23*3600 + 18*60, dur: 240, share: 0.04, bursty: true},
}

// backgroundShare is what is left for the background.
func backgroundShare() float64 {
	s := 1.0
	for _, o := range schedule {
		s -= o.share
	}
	return s
}

// diurnal is the relative traffic at second s of the day.
func diurnal(s int) float64 {
	h := float64(s) / 3600
	// Low around 04:00, a morning rise, a peak around 20:00.
	v := 0.25 + 0.75*math.Pow(math.Sin(math.Pi*(h-4)/24), 2) + 0.25*math.Exp(-math.Pow((h-20)/2.5, 2))
	return v
}

// ---------------------------------------------------------------------------
// Record kinds, for Stats and for the tests.

type kind uint8

const (
	kStatic404 kind = iota
	kStatic403
	kDirIndex
	kForbiddenRule
	kRewriteCycle
	kClientClosed
	kClientPremature
	kClientTimeout
	kClientReset
	kLimitReq
	kLimitDelay
	kBodyTooLarge
	kBodyBuffered
	kRespBuffered
	kPrimaryScript
	kPHPWarning
	kPHPFatal
	kUnknown
	kConnRefused
	kUnixENOENT
	kUnixEAGAIN
	kUnixRefused
	kReadTimeoutHdr
	kReadTimeoutBody
	kConnectTimeout
	kRecvReset
	kTooBigHeader
	kNoLive
	kServerDisabled
	numKinds
)

// KindNames names the record kinds counted in Stats.Records.
var KindNames = [numKinds]string{
	"static_404", "static_403", "dir_index", "forbidden_by_rule", "rewrite_cycle",
	"client_closed", "client_premature_close", "client_timeout", "client_reset",
	"limit_req", "limit_req_delay", "body_too_large", "body_buffered", "response_buffered",
	"primary_script_unknown", "php_warning", "php_fatal", "unknown",
	"connect_refused", "unix_enoent", "unix_eagain", "unix_refused",
	"read_timeout_header", "read_timeout_body", "connect_timeout", "recv_reset",
	"too_big_header", "no_live_upstreams", "server_disabled",
}

type weighted struct {
	k kind
	w float64
}

// backgroundMix is the everyday noise of a busy nginx.
var backgroundMix = []weighted{
	{kStatic404, 30}, {kStatic403, 4}, {kDirIndex, 2}, {kForbiddenRule, 3}, {kRewriteCycle, 0.5},
	{kClientClosed, 5}, {kClientPremature, 12}, {kClientTimeout, 2}, {kClientReset, 3},
	{kLimitReq, 9}, {kLimitDelay, 5}, {kBodyTooLarge, 1.5}, {kBodyBuffered, 2}, {kRespBuffered, 4},
	{kPrimaryScript, 6}, {kPHPWarning, 6}, {kPHPFatal, 1}, {kUnknown, 3},
}

func mixFor(o outageKind) []weighted {
	switch o {
	case tcpRefused:
		return []weighted{{kConnRefused, 85}, {kServerDisabled, 3}, {kNoLive, 12}}
	case socketMissing:
		return []weighted{{kUnixENOENT, 100}}
	case fpmSaturated:
		return []weighted{{kUnixEAGAIN, 72}, {kReadTimeoutHdr, 14}, {kRecvReset, 2}, {kClientPremature, 12}}
	case readTimeout:
		return []weighted{{kReadTimeoutHdr, 90}, {kReadTimeoutBody, 4}, {kClientPremature, 6}}
	case tooBigHeader:
		return []weighted{{kTooBigHeader, 100}}
	case phpFatal:
		return []weighted{{kPHPFatal, 85}, {kPHPWarning, 15}}
	case fpmTCPSaturated:
		return []weighted{{kConnectTimeout, 78}, {kReadTimeoutHdr, 10}, {kClientPremature, 12}}
	case staleSocket:
		return []weighted{{kUnixRefused, 100}}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Sites and what their users ask for.

type site struct {
	name  string
	root  string
	fcgi  string // FastCGI upstream as nginx writes it; "" for none
	proxy string // proxied backend base URL; "" for none
	paths []string
}

const (
	fpmSocket   = "unix:/run/php/php8.2-fpm.sock"
	fpmWWW      = "fastcgi://unix:/run/php/php8.2-fpm.sock:"
	fpmAPI      = "fastcgi://127.0.0.1:9001"
	apiBackend1 = "http://10.0.2.11:8080"
	apiBackend2 = "http://10.0.2.12:8080"
	ssoBackend  = "http://10.0.2.21:8080"
)

var (
	shop = &site{name: "shop.example.com", root: "/var/www/shop/public", fcgi: fpmWWW, paths: []string{
		"/", "/product/{id}", "/product/{id}", "/category/{w}?page={n}", "/cart", "/checkout",
		"/search?q={w}", "/account/orders", "/index.php?route=product/{id}", "/ajax/stock?sku={hex}",
	}}
	blog = &site{name: "blog.example.org", root: "/var/www/blog", fcgi: fpmWWW, paths: []string{
		"/", "/{y}/{m}/{w}-{w}/", "/tag/{w}/", "/feed/", "/wp-admin/admin-ajax.php", "/?p={id}", "/page/{n}/",
	}}
	api = &site{name: "api.example.com", root: "/srv/api/public", proxy: apiBackend1, paths: []string{
		"/v1/orders/{id}", "/v1/orders?page={n}", "/v1/products/{id}", "/v1/cart", "/v1/search?q={w}",
		"/v1/stock/{hex}", "/v1/me", "/v2/recommendations?user={id}",
	}}
	apiFPM = &site{name: "app.example.com", root: "/srv/app/public", fcgi: fpmAPI, paths: []string{
		"/api/export?format=csv", "/api/report/{id}", "/api/sync", "/api/webhooks/stripe", "/api/items/{id}",
	}}
	sso = &site{name: "sso.example.com", root: "/srv/sso", proxy: ssoBackend, paths: []string{
		"/login/callback?code={hex}{hex}&state={hex}", "/oauth/authorize?client_id={w}", "/session/refresh",
	}}
	static = &site{name: "static.example.com", root: "/srv/static", paths: []string{
		"/img/products/{id}.jpg", "/img/products/{id}_thumb.webp", "/css/app.{hex}.css", "/js/app.{hex}.js",
		"/fonts/inter-{w}.woff2",
	}}
	www = &site{name: "www.example.com", root: "/var/www/html", paths: []string{
		"/", "/about/", "/contact/", "/images/{w}.png", "/docs/{w}/{w}.html",
	}}
	allSites = []*site{shop, shop, shop, blog, api, api, apiFPM, sso, static, static, www}
)

// scanPaths are what vulnerability scanners ask every site for.
var scanPaths = []string{
	"/.env", "/.git/config", "/wp-login.php", "/xmlrpc.php", "/phpmyadmin/index.php", "/backup.zip",
	"/config.php.bak", "/.aws/credentials", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
	"/admin/config.php", "/server-status", "/.DS_Store", "/wp-content/plugins/{w}/readme.txt",
}

var staticMisses = []string{
	"/favicon.ico", "/apple-touch-icon.png", "/apple-touch-icon-precomposed.png", "/robots.txt",
	"/sitemap.xml", "/ads.txt", "/.well-known/security.txt", "/browserconfig.xml",
}

var words = []string{
	"shoes", "boots", "sandals", "jackets", "winter", "summer", "sale", "red", "blue", "leather",
	"running", "kids", "women", "men", "gift", "wool", "cotton", "outdoor", "classic", "new",
	"bags", "hats", "scarf", "socks", "denim", "linen", "travel", "sport", "office", "home",
}

// ---------------------------------------------------------------------------

type gen struct {
	cfg   Config
	r     *rand.Rand
	zipf  *rand.Zipf
	stats Stats

	nw, fw, sw *bufio.Writer
	line       []byte // the nginx record being built
	fline      []byte // the php-fpm line being built
	sline      []byte

	sec       int    // second of the day being written
	nhead     []byte // "2026/11/21 HH:MM:SS "
	fhead     []byte // "[21-Nov-2026 HH:MM:SS] "
	headSec   int
	conn      int64
	workers   []int
	clients   []string
	scanners  []string
	fpmPid    int
	nextChild int
	children  map[string][]int // pool → its children's pids
	poolOrder []string
	lastMax   [2]int // per pool (www, api): second of the last max_children warning
	hexbuf    [8]byte
}

func newGen(cfg Config) *gen {
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	g := &gen{
		cfg:       cfg,
		r:         r,
		headSec:   -1,
		conn:      int64(r.IntN(5000)) + 1,
		fpmPid:    700 + r.IntN(200),
		nextChild: 3000 + r.IntN(1000),
		children:  map[string][]int{},
		poolOrder: []string{"www", "api"},
	}
	g.zipf = rand.NewZipf(r, 1.3, 4, 59999)
	master := 1100 + r.IntN(200)
	for i := 1; i <= 4; i++ {
		g.workers = append(g.workers, master+i)
	}
	g.clients = make([]string, 60000)
	for i := range g.clients {
		g.clients[i] = g.ipv4()
	}
	for range 40 {
		g.scanners = append(g.scanners, g.ipv4())
	}
	for _, p := range g.poolOrder {
		n := 12
		if p == "api" {
			n = 8
		}
		for range n {
			g.children[p] = append(g.children[p], g.newChild())
		}
	}
	for i := range g.lastMax {
		g.lastMax[i] = -1 << 30
	}
	return g
}

func (g *gen) newChild() int {
	g.nextChild += 1 + g.r.IntN(40)
	return g.nextChild
}

// ipv4 draws a public-looking address.
func (g *gen) ipv4() string {
	var b []byte
	for {
		a := 1 + g.r.IntN(222)
		if a != 10 && a != 127 && a != 100 && a != 172 && a != 192 && a != 169 {
			b = strconv.AppendInt(b, int64(a), 10)
			break
		}
	}
	for range 3 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(g.r.IntN(256)), 10)
	}
	return string(b)
}

// run walks the day second by second. Each second gets the lines its
// share of the day's rate says, so the file has exactly cfg.Lines lines
// and timestamps never go back.
func (g *gen) run() {
	n := float64(g.cfg.Lines)
	bg := make([]float64, daySeconds)
	var bgSum float64
	for s := range bg {
		bg[s] = diurnal(s)
		bgSum += bg[s]
	}
	bgScale := n * backgroundShare() / bgSum
	shapes := make([][]float64, len(schedule))
	scales := make([]float64, len(schedule))
	for i, o := range schedule {
		shapes[i], scales[i] = g.shape(o, n)
	}

	g.fpmStartOfDay()
	var written int64
	var expected float64
	weights := make([]float64, 0, 1+len(schedule))
	for s := range daySeconds {
		g.sec = s
		weights = weights[:0]
		weights = append(weights, bg[s]*bgScale)
		for i, o := range schedule {
			w := 0.0
			if s >= o.start && s < o.start+o.dur {
				w = shapes[i][s-o.start] * scales[i]
			}
			weights = append(weights, w)
		}
		g.fpmSecond(s, weights)
		total := 0.0
		for _, w := range weights {
			total += w
		}
		expected += total
		target := int64(math.Round(expected))
		if s == daySeconds-1 {
			target = int64(g.cfg.Lines)
		}
		for written < target {
			pick := g.r.Float64() * total
			src := 0
			for src < len(weights)-1 && pick >= weights[src] {
				pick -= weights[src]
				src++
			}
			var k kind
			if src == 0 || total == 0 {
				k = g.pickKind(backgroundMix)
				src = 0
			} else {
				k = g.pickKind(mixFor(schedule[src-1].kind))
			}
			written += int64(g.record(k, src, int(int64(g.cfg.Lines)-written)))
		}
	}
}

// shape returns an outage's relative rate per second of its window and
// the scale that turns it into lines.
func (g *gen) shape(o outage, n float64) ([]float64, float64) {
	sh := make([]float64, o.dur)
	var sum float64
	burst := 0
	for i := range sh {
		v := 1.0
		// Ramp up over the first 20 s and down over the last 20 s: the
		// failure shows as traffic keeps hitting it.
		if i < 20 {
			v = float64(i+1) / 20
		} else if o.dur-i < 20 {
			v = float64(o.dur-i) / 20
		}
		if o.bursty {
			// Saturation comes in waves: bursts of 8-30 s when the
			// listen queue overflows, quieter stretches between them.
			if burst <= 0 {
				if g.r.IntN(30) == 0 {
					burst = 8 + g.r.IntN(23)
				}
			}
			if burst > 0 {
				v *= 4
				burst--
			} else {
				v *= 0.5
			}
		}
		v *= 0.8 + 0.4*g.r.Float64()
		sh[i] = v
		sum += v
	}
	return sh, n * o.share / sum
}

func (g *gen) pickKind(mix []weighted) kind {
	var total float64
	for _, m := range mix {
		total += m.w
	}
	p := g.r.Float64() * total
	for _, m := range mix {
		if p < m.w {
			return m.k
		}
		p -= m.w
	}
	return mix[len(mix)-1].k
}

// ---------------------------------------------------------------------------
// Appenders.

func (g *gen) headers() {
	if g.headSec == g.sec {
		return
	}
	g.headSec = g.sec
	y, mo, d := g.cfg.Day.Date()
	h, m, s := g.sec/3600, g.sec/60%60, g.sec%60
	b := g.nhead[:0]
	b = appendPad(b, y, 4)
	b = append(b, '/')
	b = appendPad(b, int(mo), 2)
	b = append(b, '/')
	b = appendPad(b, d, 2)
	b = append(b, ' ')
	b = appendClock(b, h, m, s)
	g.nhead = append(b, ' ')
	f := g.fhead[:0]
	f = append(f, '[')
	f = appendPad(f, d, 2)
	f = append(f, '-')
	f = append(f, mo.String()[:3]...)
	f = append(f, '-')
	f = appendPad(f, y, 4)
	f = append(f, ' ')
	f = appendClock(f, h, m, s)
	g.fhead = append(f, ']', ' ')
}

func appendClock(b []byte, h, m, s int) []byte {
	b = appendPad(b, h, 2)
	b = append(b, ':')
	b = appendPad(b, m, 2)
	b = append(b, ':')
	return appendPad(b, s, 2)
}

func appendPad(b []byte, v, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// appendMicros writes v with six decimals, like php-fpm's "%f".
func appendMicros(b []byte, micros int64) []byte {
	b = strconv.AppendInt(b, micros/1e6, 10)
	b = append(b, '.')
	return appendPad(b, int(micros%1e6), 6)
}

func (g *gen) appendHex(b []byte) []byte {
	const digits = "0123456789abcdef"
	v := g.r.Uint32()
	for i := range g.hexbuf {
		g.hexbuf[i] = digits[v>>(28-4*i)&0xf]
	}
	return append(b, g.hexbuf[:]...)
}

// appendPath expands a path template: {id} a product or order number,
// {n} a page, {w} a word, {hex} eight hex digits, {y}/{m} a date.
func (g *gen) appendPath(b []byte, tmpl string) []byte {
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '{' {
			b = append(b, c)
			continue
		}
		j := i + 1
		for j < len(tmpl) && tmpl[j] != '}' {
			j++
		}
		switch tmpl[i+1 : j] {
		case "id":
			b = strconv.AppendInt(b, int64(1+g.r.IntN(250000)), 10)
		case "n":
			b = strconv.AppendInt(b, int64(1+g.r.IntN(40)), 10)
		case "w":
			b = append(b, words[g.r.IntN(len(words))]...)
		case "hex":
			b = g.appendHex(b)
		case "y":
			b = strconv.AppendInt(b, int64(2019+g.r.IntN(8)), 10)
		case "m":
			b = appendPad(b, 1+g.r.IntN(12), 2)
		}
		i = j
	}
	return b
}

// head starts an nginx record: time, level, pid#tid and the connection.
func (g *gen) head(level string, conn bool) {
	g.headers()
	b := append(g.line[:0], g.nhead...)
	b = append(b, '[')
	b = append(b, level...)
	b = append(b, "] "...)
	pid := g.workers[g.r.IntN(len(g.workers))]
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, '#')
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, ": "...)
	if conn {
		g.conn += 1 + int64(g.r.IntN(7))
		b = append(b, '*')
		b = strconv.AppendInt(b, g.conn, 10)
		b = append(b, ' ')
	}
	g.line = b
}

func (g *gen) client() string {
	return g.clients[g.zipf.Uint64()]
}

// request is one client request for the context of an nginx record.
type request struct {
	site   *site
	method string
	uri    []byte
	proto  string
}

func (g *gen) request(s *site, uri string) request {
	rq := request{site: s, method: "GET", proto: "HTTP/1.1"}
	if g.r.IntN(5) < 2 {
		rq.proto = "HTTP/2.0"
	}
	if g.r.IntN(12) == 0 {
		rq.method = "POST"
	}
	if uri == "" {
		uri = s.paths[g.r.IntN(len(s.paths))]
	}
	rq.uri = g.appendPath(rq.uri[:0], uri)
	return rq
}

// context appends ", client: …, server: …, request: …[, upstream: …],
// host: …[, referrer: …]" and the newline.
func (g *gen) context(client string, rq request, upstream string) {
	b := append(g.line, ", client: "...)
	b = append(b, client...)
	b = append(b, ", server: "...)
	b = append(b, rq.site.name...)
	b = append(b, ", request: \""...)
	b = append(b, rq.method...)
	b = append(b, ' ')
	b = append(b, rq.uri...)
	b = append(b, ' ')
	b = append(b, rq.proto...)
	b = append(b, '"')
	if upstream != "" {
		b = append(b, ", upstream: \""...)
		b = append(b, upstream...)
		if upstream[0] == 'h' { // http://peer: nginx appends the URI
			b = append(b, rq.uri...)
		}
		b = append(b, '"')
	}
	b = append(b, ", host: \""...)
	b = append(b, rq.site.name...)
	b = append(b, '"')
	if rq.site.proxy == "" && rq.site.fcgi != fpmAPI && g.r.IntN(4) == 0 { // pages, not APIs, have referrers
		b = append(b, ", referrer: \"https://"...)
		b = append(b, rq.site.name...)
		b = append(b, '/')
		if g.r.IntN(2) == 0 {
			b = append(b, "category/"...)
			b = append(b, words[g.r.IntN(len(words))]...)
		}
		b = append(b, '"')
	}
	g.line = append(b, '\n')
}

func (g *gen) emit(k kind, lines int) int {
	g.nw.Write(g.line)
	g.stats.NginxLines += int64(lines)
	g.stats.Records[k]++
	return lines
}

// record writes one nginx record of kind k from source src (0: the
// background, i: schedule[i-1]) in at most maxLines lines, and returns
// how many lines it wrote.
func (g *gen) record(k kind, src, maxLines int) int {
	var o *outage
	if src > 0 {
		o = &schedule[src-1]
	}
	switch k {
	case kStatic404:
		g.head("error", true)
		s, uri, client := g.staticTarget()
		rq := g.request(s, uri)
		g.openFailed(s, rq, "(2: No such file or directory)")
		g.context(client, rq, "")
	case kStatic403:
		g.head("error", true)
		rq := g.request(www, "/private/{w}/{w}.pdf")
		if g.r.IntN(3) == 0 {
			// The index file of a directory nginx may not read.
			rq = g.request(www, "/private/")
			g.line = append(g.line, '"')
			g.line = append(g.line, www.root...)
			g.line = append(g.line, "/private/index.html\" is forbidden (13: Permission denied)"...)
		} else {
			g.openFailed(www, rq, "(13: Permission denied)")
		}
		g.context(g.client(), rq, "")
	case kDirIndex:
		g.head("error", true)
		rq := g.request(static, "/img/{w}/")
		g.line = append(g.line, "directory index of \""...)
		g.line = append(g.line, static.root...)
		g.line = append(g.line, rq.uri...)
		g.line = append(g.line, "\" is forbidden"...)
		g.context(g.client(), rq, "")
	case kForbiddenRule:
		g.head("error", true)
		s := allSites[g.r.IntN(len(allSites))]
		rq := g.request(s, scanPaths[g.r.IntN(3)])
		g.line = append(g.line, "access forbidden by rule"...)
		g.context(g.scanners[g.r.IntN(len(g.scanners))], rq, "")
	case kRewriteCycle:
		g.head("error", true)
		rq := g.request(www, "/docs/{w}")
		g.line = append(g.line, "rewrite or internal redirection cycle while internally redirecting to \"/index.html\""...)
		g.context(g.client(), rq, "")
	case kClientClosed:
		g.head("info", true)
		g.line = append(g.line, "client closed connection while waiting for request, client: "...)
		g.line = append(g.line, g.client()...)
		g.line = append(g.line, ", server: 0.0.0.0:443\n"...)
	case kClientPremature:
		g.head("info", true)
		s := g.backendSite(o)
		rq := g.request(s, "")
		g.line = append(g.line, "epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too while "...)
		if g.r.IntN(3) == 0 {
			g.line = append(g.line, "reading upstream"...)
		} else {
			g.line = append(g.line, "reading response header from upstream"...)
		}
		g.context(g.client(), rq, g.upstream(s, o))
	case kClientTimeout:
		g.head("info", true)
		rq := g.request(static, "")
		g.line = append(g.line, "client timed out (110: Connection timed out) while sending to client"...)
		g.context(g.client(), rq, "")
	case kClientReset:
		g.head("info", true)
		g.line = append(g.line, "recv() failed (104: Connection reset by peer) while waiting for request, client: "...)
		g.line = append(g.line, g.client()...)
		g.line = append(g.line, ", server: 0.0.0.0:443\n"...)
	case kLimitReq:
		g.head("error", true)
		s := api
		zone := "api"
		if g.r.IntN(3) == 0 {
			s, zone = shop, "perip"
		}
		rq := g.request(s, "")
		g.line = append(g.line, "limiting requests, excess: "...)
		g.line = appendMicros(g.line, int64(10+g.r.IntN(30))*1e6+int64(g.r.IntN(1000))*1000)
		g.line = g.trimMicros()
		g.line = append(g.line, " by zone \""...)
		g.line = append(g.line, zone...)
		g.line = append(g.line, '"')
		g.context(g.scanners[g.r.IntN(len(g.scanners))], rq, "")
	case kLimitDelay:
		g.head("warn", true)
		rq := g.request(shop, "/account/login")
		rq.method = "POST"
		g.line = append(g.line, "delaying request, excess: "...)
		g.line = appendMicros(g.line, int64(g.r.IntN(5))*1e6+int64(g.r.IntN(1000))*1000)
		g.line = g.trimMicros()
		g.line = append(g.line, ", by zone \"login\""...)
		g.context(g.client(), rq, "")
	case kBodyTooLarge:
		g.head("error", true)
		rq := g.request(blog, "/wp-admin/async-upload.php")
		rq.method = "POST"
		g.line = append(g.line, "client intended to send too large body: "...)
		g.line = strconv.AppendInt(g.line, int64(2<<20+g.r.IntN(60<<20)), 10)
		g.line = append(g.line, " bytes"...)
		g.context(g.client(), rq, "")
	case kBodyBuffered:
		g.head("warn", true)
		rq := g.request(apiFPM, "/api/sync")
		rq.method = "POST"
		g.line = append(g.line, "a client request body is buffered to a temporary file /var/lib/nginx/body/"...)
		g.line = appendPad(g.line, g.r.IntN(1e9), 10)
		g.context(g.client(), rq, fpmAPI)
	case kRespBuffered:
		g.head("warn", true)
		rq := g.request(apiFPM, "/api/export?format=csv")
		g.line = append(g.line, "an upstream response is buffered to a temporary file /var/lib/nginx/fastcgi/"...)
		g.line = strconv.AppendInt(g.line, int64(g.r.IntN(10)), 10)
		g.line = append(g.line, '/')
		g.line = appendPad(g.line, g.r.IntN(100), 2)
		g.line = append(g.line, '/')
		g.line = appendPad(g.line, g.r.IntN(1e9), 10)
		g.line = append(g.line, " while reading upstream"...)
		g.context(g.client(), rq, fpmAPI)
	case kPrimaryScript:
		g.head("error", true)
		s := shop
		if g.r.IntN(2) == 0 {
			s = blog
		}
		rq := g.request(s, scanPaths[2+g.r.IntN(3)])
		g.line = append(g.line, "FastCGI sent in stderr: \"Primary script unknown\" while reading response header from upstream"...)
		g.context(g.scanners[g.r.IntN(len(g.scanners))], rq, fpmWWW)
	case kPHPWarning:
		g.head("error", true)
		rq := g.request(shop, "")
		g.line = append(g.line, "FastCGI sent in stderr: \"PHP message: PHP Warning:  "...)
		g.line = append(g.line, phpWarnings[g.r.IntN(len(phpWarnings))]...)
		g.line = append(g.line, " on line "...)
		g.line = strconv.AppendInt(g.line, int64(10+g.r.IntN(300)), 10)
		g.line = append(g.line, "\" while reading response header from upstream"...)
		g.context(g.client(), rq, fpmWWW)
	case kPHPFatal:
		if maxLines < 4 {
			return g.record(kStatic404, src, maxLines)
		}
		return g.phpFatal(maxLines)
	case kUnknown:
		u := unknownLines[g.r.IntN(len(unknownLines))]
		g.head(u.level, true)
		rq := g.request(u.site, u.uri)
		g.line = append(g.line, u.msg...)
		g.context(g.client(), rq, "")
	case kConnRefused:
		g.head("error", true)
		rq := g.request(api, "")
		g.line = append(g.line, "connect() failed (111: Connection refused) while connecting to upstream"...)
		g.context(g.client(), rq, apiBackend1)
	case kServerDisabled:
		g.head("warn", true)
		rq := g.request(api, "")
		g.line = append(g.line, "upstream server temporarily disabled while connecting to upstream"...)
		g.context(g.client(), rq, apiBackend1)
	case kNoLive:
		g.head("error", true)
		rq := g.request(api, "")
		g.line = append(g.line, "no live upstreams while connecting to upstream"...)
		g.context(g.client(), rq, "http://api_backend")
	case kUnixENOENT:
		g.head("crit", true)
		s := g.phpSite()
		rq := g.request(s, "")
		g.line = append(g.line, "connect() to "+fpmSocket+" failed (2: No such file or directory) while connecting to upstream"...)
		g.context(g.client(), rq, fpmWWW)
	case kUnixEAGAIN:
		g.head("error", true)
		s := g.phpSite()
		rq := g.request(s, "")
		g.line = append(g.line, "connect() to "+fpmSocket+" failed (11: Resource temporarily unavailable) while connecting to upstream"...)
		g.context(g.client(), rq, fpmWWW)
	case kUnixRefused:
		g.head("error", true)
		s := g.phpSite()
		rq := g.request(s, "")
		g.line = append(g.line, "connect() to "+fpmSocket+" failed (111: Connection refused) while connecting to upstream"...)
		g.context(g.client(), rq, fpmWWW)
	case kReadTimeoutHdr, kReadTimeoutBody:
		g.head("error", true)
		s := g.backendSite(o)
		rq := g.request(s, "")
		g.line = append(g.line, "upstream timed out (110: Connection timed out) while reading "...)
		if k == kReadTimeoutBody {
			g.line = append(g.line, "upstream"...)
		} else {
			g.line = append(g.line, "response header from upstream"...)
		}
		g.context(g.client(), rq, g.upstream(s, o))
	case kConnectTimeout:
		g.head("error", true)
		rq := g.request(apiFPM, "")
		g.line = append(g.line, "upstream timed out (110: Connection timed out) while connecting to upstream"...)
		g.context(g.client(), rq, fpmAPI)
	case kRecvReset:
		g.head("error", true)
		rq := g.request(shop, "/index.php?route=report/{id}")
		g.line = append(g.line, "recv() failed (104: Connection reset by peer) while reading response header from upstream"...)
		g.context(g.client(), rq, fpmWWW)
	case kTooBigHeader:
		g.head("error", true)
		rq := g.request(sso, sso.paths[0])
		g.line = append(g.line, "upstream sent too big header while reading response header from upstream"...)
		g.context(g.client(), rq, ssoBackend)
	}
	return g.emit(k, 1)
}

// trimMicros cuts the six decimals appendMicros wrote down to three, as
// nginx writes its limit_req excess.
func (g *gen) trimMicros() []byte { return g.line[:len(g.line)-3] }

func (g *gen) openFailed(s *site, rq request, errno string) {
	b := append(g.line, "open() \""...)
	b = append(b, s.root...)
	uri := rq.uri
	for i, c := range uri {
		if c == '?' {
			uri = uri[:i]
			break
		}
	}
	b = append(b, uri...)
	b = append(b, "\" failed "...)
	g.line = append(b, errno...)
}

// staticTarget picks a missing file: a product image, a well-known file
// browsers ask for, or a scanner's probe.
func (g *gen) staticTarget() (*site, string, string) {
	switch n := g.r.IntN(10); {
	case n < 5:
		return static, static.paths[g.r.IntN(2)], g.client()
	case n < 8:
		s := []*site{shop, blog, www, static}[g.r.IntN(4)]
		return s, staticMisses[g.r.IntN(len(staticMisses))], g.client()
	default:
		s := []*site{shop, blog, www}[g.r.IntN(3)]
		p := scanPaths[5+g.r.IntN(len(scanPaths)-5)]
		return s, p, g.scanners[g.r.IntN(len(g.scanners))]
	}
}

func (g *gen) phpSite() *site {
	if g.r.IntN(4) == 0 {
		return blog
	}
	return shop
}

// backendSite is the site whose backend an outage concerns; in the
// background, any site with a backend.
func (g *gen) backendSite(o *outage) *site {
	if o != nil {
		switch o.kind {
		case readTimeout, tcpRefused:
			return api
		case fpmTCPSaturated:
			return apiFPM
		}
		return g.phpSite()
	}
	switch g.r.IntN(4) {
	case 0:
		return api
	case 1:
		return apiFPM
	}
	return g.phpSite()
}

func (g *gen) upstream(s *site, o *outage) string {
	if s == api {
		if o != nil && o.kind == readTimeout {
			return apiBackend2
		}
		if g.r.IntN(2) == 0 {
			return apiBackend2
		}
		return apiBackend1
	}
	if s.fcgi != "" {
		return s.fcgi
	}
	return s.proxy
}

var phpWarnings = []string{
	`Undefined array key "variant" in /var/www/shop/src/View/product.php`,
	`Undefined variable $discount in /var/www/shop/src/Cart/Totals.php`,
	`Trying to access array offset on value of type null in /var/www/shop/src/Catalog/Price.php`,
	`file_get_contents(https://rates.example.net/eur.json): Failed to open stream: HTTP request failed! HTTP/1.1 503 Service Unavailable in /var/www/shop/src/Currency/Rates.php`,
	`Attempt to read property "title" on null in /var/www/blog/wp-content/themes/north/single.php`,
}

type fatal struct {
	head   string // after "PHP Fatal error:  "
	file   string // where it was thrown
	line   int
	frames []string // stack frames, innermost first, without "#N "
}

var fatals = []fatal{
	{"Uncaught Error: Call to undefined method App\\Cart\\Cart::totals()", "/var/www/shop/src/Controller/CartController.php", 87, []string{
		"/var/www/shop/vendor/symfony/http-kernel/HttpKernel.php(163): App\\Controller\\CartController->show()",
		"/var/www/shop/vendor/symfony/http-kernel/HttpKernel.php(75): Symfony\\Component\\HttpKernel\\HttpKernel->handleRaw()",
		"/var/www/shop/vendor/symfony/http-kernel/Kernel.php(202): Symfony\\Component\\HttpKernel\\HttpKernel->handle()",
		"/var/www/shop/public/index.php(20): Symfony\\Component\\HttpKernel\\Kernel->handle()",
	}},
	{"Uncaught Error: Class \"App\\Payment\\StripeGateway\" not found", "/var/www/shop/src/Payment/GatewayFactory.php", 31, []string{
		"/var/www/shop/src/Controller/CheckoutController.php(54): App\\Payment\\GatewayFactory->create()",
		"/var/www/shop/vendor/symfony/http-kernel/HttpKernel.php(163): App\\Controller\\CheckoutController->pay()",
		"/var/www/shop/public/index.php(20): Symfony\\Component\\HttpKernel\\Kernel->handle()",
	}},
	{"Uncaught PDOException: SQLSTATE[HY000] [2002] Connection refused", "/var/www/shop/src/Db/Connection.php", 42, []string{
		"/var/www/shop/src/Db/Connection.php(42): PDO->__construct()",
		"/var/www/shop/src/Catalog/ProductRepository.php(19): App\\Db\\Connection->pdo()",
		"/var/www/shop/src/Controller/ProductController.php(33): App\\Catalog\\ProductRepository->find()",
	}},
	{"Uncaught TypeError: number_format(): Argument #1 ($num) must be of type float, string given", "/var/www/blog/wp-content/plugins/shop-widget/widget.php", 118, []string{
		"/var/www/blog/wp-content/plugins/shop-widget/widget.php(118): number_format()",
		"/var/www/blog/wp-includes/class-wp-hook.php(324): ShopWidget->render()",
	}},
}

// phpFatal writes a FastCGI stderr record carrying a PHP fatal error with
// its stack trace, which nginx writes across several physical lines.
func (g *gen) phpFatal(maxLines int) int {
	f := fatals[g.r.IntN(len(fatals))]
	frames := f.frames
	// "message\nStack trace:\n#0..#k\n#k+1 {main}\n  thrown ..." is
	// 4 + len(frames) lines.
	if n := maxLines - 4; len(frames) > n {
		frames = frames[:n]
	}
	s := shop
	if f.file[9] == 'b' { // /var/www/blog
		s = blog
	}
	g.head("error", true)
	rq := g.request(s, "")
	b := append(g.line, "FastCGI sent in stderr: \"PHP message: PHP Fatal error:  "...)
	b = append(b, f.head...)
	b = append(b, " in "...)
	b = append(b, f.file...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(f.line), 10)
	b = append(b, "\nStack trace:\n"...)
	for i, fr := range frames {
		b = append(b, '#')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ' ')
		b = append(b, fr...)
		b = append(b, '\n')
	}
	b = append(b, '#')
	b = strconv.AppendInt(b, int64(len(frames)), 10)
	b = append(b, " {main}\n  thrown in "...)
	b = append(b, f.file...)
	b = append(b, " on line "...)
	b = strconv.AppendInt(b, int64(f.line), 10)
	g.line = append(b, "\" while reading response header from upstream"...)
	g.context(g.client(), rq, fpmWWW)
	return g.emit(kPHPFatal, 4+len(frames))
}

type unknownLine struct {
	level string
	site  *site
	uri   string
	msg   string
}

// unknownLines are real nginx messages no rule of the library knows (from
// modules and configurations the library does not cover), so that the
// coverage's unknown templates have work to do.
var unknownLines = []unknownLine{
	{"error", www, "/admin/", "auth request unexpected status: 500 while sending to client"},
	{"error", www, "/legacy/{w}", "could not find named location \"@fallback\""},
	{"warn", shop, "/", "using uninitialized \"geo_country\" variable"},
	{"error", api, "/v1/me", "js: TypeError: cannot read property \"sub\" of undefined"},
	{"error", api, "/v1/orders/{id}", "lua entry thread aborted: runtime error: /etc/nginx/lua/auth.lua:42: attempt to index a nil value"},
	{"error", www, "/go/{w}", "invalid URL prefix in \"http://\""},
	{"error", static, "/img/products/{id}.jpg", "image filter: \"/srv/static/img/products/broken.jpg\" is not a valid image"},
}

// ---------------------------------------------------------------------------
// php-fpm: the master log and the slow log.

func (g *gen) fpmLine(level string, pool string) {
	g.headers()
	b := append(g.fline[:0], g.fhead...)
	b = append(b, level...)
	b = append(b, ": "...)
	if pool != "" {
		b = append(b, "[pool "...)
		b = append(b, pool...)
		b = append(b, "] "...)
	}
	g.fline = b
}

func (g *gen) fpmEnd() {
	g.fline = append(g.fline, '\n')
	g.fw.Write(g.fline)
	g.stats.FPMLines++
}

func (g *gen) fpmStartOfDay() {
	g.sec = 1
	g.fpmLine("NOTICE", "")
	g.fline = append(g.fline, "error log file re-opened"...)
	g.fpmEnd()
}

func (g *gen) fpmLifecycle(msgs ...string) {
	for _, m := range msgs {
		g.fpmLine("NOTICE", "")
		g.fline = append(g.fline, m...)
		if m == "fpm is running, pid " {
			g.fpmPid += 1000 + g.r.IntN(5000)
			g.fline = strconv.AppendInt(g.fline, int64(g.fpmPid), 10)
		}
		g.fpmEnd()
	}
}

// fpmSecond writes what php-fpm logs in second s: the everyday child
// recycling and slow requests, and what the outages active now cause.
func (g *gen) fpmSecond(s int, weights []float64) {
	g.sec = s
	// pm.max_requests recycles children all day.
	if g.r.IntN(240) == 0 {
		pool := g.poolOrder[g.r.IntN(2)]
		g.recycle(pool, 600e6+int64(g.r.IntN(3000e6)))
	}
	if g.r.IntN(900) == 0 {
		g.slowRequest("www", false)
	}
	if diurnal(s) > 0.9 && g.r.IntN(1800) == 0 {
		g.fpmLine("WARNING", "www")
		g.fline = append(g.fline, "seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 8 children, there are 0 idle, and "...)
		g.fline = strconv.AppendInt(g.fline, int64(20+g.r.IntN(20)), 10)
		g.fline = append(g.fline, " total children"...)
		g.fpmEnd()
	}
	for i, o := range schedule {
		if s < o.start-5 || s > o.start+o.dur+5 {
			continue
		}
		rel := s - o.start
		switch o.kind {
		case socketMissing:
			switch rel {
			case -2:
				g.fpmLifecycle("Terminating ...", "exiting, bye-bye!")
			case o.dur + 1:
				g.fpmLifecycle("fpm is running, pid ", "ready to handle connections", "systemd monitor interval set to 10000ms")
			}
		case staleSocket:
			switch rel {
			case -1:
				// The master crashed: it writes nothing; its children die.
				for range 3 {
					g.fpmLine("WARNING", "www")
					g.fline = append(g.fline, "child "...)
					g.fline = strconv.AppendInt(g.fline, int64(g.child("www")), 10)
					g.fline = append(g.fline, " exited on signal 11 (SIGSEGV - core dumped) after "...)
					g.fline = appendMicros(g.fline, int64(g.r.IntN(4000e6)))
					g.fline = append(g.fline, " seconds from start"...)
					g.fpmEnd()
				}
			case o.dur + 2:
				g.fpmLifecycle("fpm is running, pid ", "ready to handle connections", "systemd monitor interval set to 10000ms")
			}
		case fpmSaturated, fpmTCPSaturated:
			pool, pi := "www", 0
			if o.kind == fpmTCPSaturated {
				pool, pi = "api", 1
			}
			if rel < 0 || rel >= o.dur {
				continue
			}
			w := weights[1+i]
			// max_children is warned once per wave: when the pool fills
			// again after a quiet spell.
			if w > 0 && rel >= 2 && s-g.lastMax[pi] > 45 && g.r.IntN(4) == 0 {
				g.lastMax[pi] = s
				g.fpmLine("WARNING", pool)
				g.fline = append(g.fline, "server reached pm.max_children setting ("...)
				g.fline = strconv.AppendInt(g.fline, int64(len(g.children[pool])), 10)
				g.fline = append(g.fline, "), consider raising it"...)
				g.fpmEnd()
			}
			// Busy children are slow, the slowest are killed at
			// request_terminate_timeout.
			if g.r.IntN(3) == 0 {
				g.slowRequest(pool, false)
			}
			if g.r.IntN(25) == 0 {
				g.slowRequest(pool, true)
			}
		}
	}
}

// child picks a running child of pool.
func (g *gen) child(pool string) int {
	c := g.children[pool]
	return c[g.r.IntN(len(c))]
}

// recycle ends a child of pool that served pm.max_requests and starts
// another.
func (g *gen) recycle(pool string, micros int64) {
	c := g.children[pool]
	i := g.r.IntN(len(c))
	g.fpmLine("NOTICE", pool)
	g.fline = append(g.fline, "child "...)
	g.fline = strconv.AppendInt(g.fline, int64(c[i]), 10)
	g.fline = append(g.fline, " exited with code 0 after "...)
	g.fline = appendMicros(g.fline, micros)
	g.fline = append(g.fline, " seconds from start"...)
	g.fpmEnd()
	c[i] = g.newChild()
	g.fpmLine("NOTICE", pool)
	g.fline = append(g.fline, "child "...)
	g.fline = strconv.AppendInt(g.fline, int64(c[i]), 10)
	g.fline = append(g.fline, " started"...)
	g.fpmEnd()
}

type slowScript struct {
	script  string
	request string
	frames  []string // innermost first: "function() file:line"
}

var slowScripts = map[string][]slowScript{
	"www": {
		{"/var/www/shop/public/index.php", "GET /index.php", []string{
			"curl_exec() /var/www/shop/vendor/guzzlehttp/guzzle/src/Handler/CurlHandler.php:44",
			"__invoke() /var/www/shop/vendor/guzzlehttp/guzzle/src/Handler/Proxy.php:28",
			"getRates() /var/www/shop/src/Currency/Rates.php:61",
			"handle() /var/www/shop/public/index.php:20",
		}},
		{"/var/www/shop/public/index.php", "GET /index.php", []string{
			"execute() /var/www/shop/vendor/doctrine/dbal/src/Driver/PDO/Statement.php:130",
			"executeQuery() /var/www/shop/vendor/doctrine/dbal/src/Connection.php:1096",
			"findByCategory() /var/www/shop/src/Catalog/ProductRepository.php:88",
			"handle() /var/www/shop/public/index.php:20",
		}},
		{"/var/www/shop/public/index.php", "POST /index.php", []string{
			"session_start() /var/www/shop/src/Http/Session.php:19",
			"boot() /var/www/shop/src/Kernel.php:41",
			"handle() /var/www/shop/public/index.php:20",
		}},
		{"/var/www/blog/index.php", "GET /index.php", []string{
			"mysqli_query() /var/www/blog/wp-includes/class-wpdb.php:2349",
			"_do_query() /var/www/blog/wp-includes/class-wpdb.php:2263",
			"query() /var/www/blog/wp-includes/class-wpdb.php:3102",
		}},
	},
	"api": {
		{"/srv/app/public/index.php", "GET /index.php", []string{
			"fread() /srv/app/vendor/predis/predis/src/Connection/StreamConnection.php:301",
			"read() /srv/app/src/Cache/Redis.php:55",
			"exportRows() /srv/app/src/Export/CsvExporter.php:77",
		}},
		{"/srv/app/public/index.php", "POST /index.php", []string{
			"usleep() /srv/app/src/Sync/Backoff.php:23",
			"retry() /srv/app/src/Sync/Client.php:112",
		}},
	},
}

// slowRequest logs a slow request in the master log and its backtrace in
// the slow log; terminated, php-fpm kills the child at
// request_terminate_timeout and starts another.
func (g *gen) slowRequest(pool string, terminated bool) {
	scripts := slowScripts[pool]
	sc := scripts[g.r.IntN(len(scripts))]
	child := g.child(pool)
	req := func() {
		g.fline = append(g.fline, "child "...)
		g.fline = strconv.AppendInt(g.fline, int64(child), 10)
		g.fline = append(g.fline, ", script '"...)
		g.fline = append(g.fline, sc.script...)
		g.fline = append(g.fline, "' (request: \""...)
		g.fline = append(g.fline, sc.request...)
		g.fline = append(g.fline, "\") "...)
	}
	if terminated {
		g.fpmLine("WARNING", pool)
		req()
		g.fline = append(g.fline, "execution timed out ("...)
		g.fline = appendMicros(g.fline, 30e6+int64(g.r.IntN(400e3)))
		g.fline = append(g.fline, " sec), terminating"...)
		g.fpmEnd()
		c := g.children[pool]
		for i := range c {
			if c[i] == child {
				g.fpmLine("WARNING", pool)
				g.fline = append(g.fline, "child "...)
				g.fline = strconv.AppendInt(g.fline, int64(child), 10)
				g.fline = append(g.fline, " exited on signal 15 (SIGTERM) after "...)
				g.fline = appendMicros(g.fline, int64(60e6+g.r.IntN(3000e6)))
				g.fline = append(g.fline, " seconds from start"...)
				g.fpmEnd()
				c[i] = g.newChild()
				g.fpmLine("NOTICE", pool)
				g.fline = append(g.fline, "child "...)
				g.fline = strconv.AppendInt(g.fline, int64(c[i]), 10)
				g.fline = append(g.fline, " started"...)
				g.fpmEnd()
				break
			}
		}
		return
	}
	g.fpmLine("WARNING", pool)
	req()
	g.fline = append(g.fline, "executing too slow ("...)
	g.fline = appendMicros(g.fline, 5e6+int64(g.r.IntN(900e3)))
	g.fline = append(g.fline, " sec), logging"...)
	g.fpmEnd()
	for _, m := range [...]string{" stopped for tracing", "about to trace ", "finished trace of "} {
		g.fpmLine("NOTICE", "")
		if m[0] == ' ' {
			g.fline = append(g.fline, "child "...)
			g.fline = strconv.AppendInt(g.fline, int64(child), 10)
			g.fline = append(g.fline, m...)
		} else {
			g.fline = append(g.fline, m...)
			g.fline = strconv.AppendInt(g.fline, int64(child), 10)
		}
		g.fpmEnd()
	}
	// The slow log: a blank line, then "[date]  [pool www] pid N", the
	// script and the frames, innermost first.
	b := append(g.sline[:0], '\n')
	b = append(b, g.fhead[:len(g.fhead)-1]...)
	b = append(b, "  [pool "...)
	b = append(b, pool...)
	b = append(b, "] pid "...)
	b = strconv.AppendInt(b, int64(child), 10)
	b = append(b, "\nscript_filename = "...)
	b = append(b, sc.script...)
	b = append(b, '\n')
	addr := 0x00007f3a5c613140 + uint64(g.r.IntN(1<<16))<<8
	for _, fr := range sc.frames {
		b = append(b, "[0x"...)
		var tmp [16]byte
		h := strconv.AppendUint(tmp[:0], addr, 16)
		for i := len(h); i < 16; i++ {
			b = append(b, '0')
		}
		b = append(b, h...)
		b = append(b, "] "...)
		b = append(b, fr...)
		b = append(b, '\n')
		addr -= 0x90
	}
	g.sline = b
	g.sw.Write(b)
	g.stats.SlowLines += int64(3 + len(sc.frames))
}
