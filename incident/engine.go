package incident

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// Defaults for Config.
const (
	DefaultGap   = 30 * time.Second
	DefaultRecur = 5 * time.Minute
)

// Config tunes the engine.
type Config struct {
	// Gap is the quiet time after which an incident closes.
	Gap time.Duration
	// Recur is how long a closed incident stays reopenable: when a
	// symptom it already had comes back on the same subject within Recur
	// of its end, the incident goes on instead of a new one starting. So
	// an outage whose lines arrive once per upstream timeout (60 s by
	// default) stays one incident, while a different problem on the same
	// subject a minute later is a new one.
	Recur time.Duration
	// Pools maps php-fpm pool names to their listen address as the web
	// server names it ("unix:/run/php/php8.2-fpm.sock", "127.0.0.1:9000"),
	// read from pool configs. Unmapped pools are matched by time overlap.
	Pools map[string]string
	// Final is called once for every incident when it can no longer
	// change, in order of finalisation.
	Final func(*Incident)
	// Templates bounds the number of unknown-record templates kept.
	Templates int
	// OnEvent, when set, receives lifecycle events as incidents open,
	// change and resolve (for watch).
	OnEvent func(Event)
	// OpenAfter is how many records of its severity an incident needs
	// before "opened" is sent, so that a single 404 pages nobody. Missing
	// severities use DefaultOpenAfter; 0 means never.
	OpenAfter map[rules.Severity]int64
}

// DefaultOpenAfter are the record counts after which an incident of each
// severity is announced.
var DefaultOpenAfter = map[rules.Severity]int64{
	rules.SeverityCritical: 1,
	rules.SeverityError:    1,
	rules.SeverityWarning:  3,
	rules.SeverityNotice:   10,
	rules.SeverityInfo:     0,
}

// Event kinds.
const (
	Opened   = "opened"
	Updated  = "updated"
	Resolved = "resolved"
)

// Event is a change in an incident's life: opened (enough evidence, or
// reopened when its symptom came back), updated (escalation: the rate
// doubled, a new rule or log joined, the root cause was found, the
// severity rose) or resolved (the quiet gap elapsed).
type Event struct {
	Kind    string
	Time    time.Time // the engine's clock when it happened
	Reasons []string  // for updated and reopened: what changed
	// Incident is a snapshot, owned by the receiver.
	Incident *Incident
}

// Engine groups matches into incidents. It expects records in time order
// (see package timeline) and is not safe for concurrent use; Prepare,
// which is, does the share of the work that needs no other record.
type Engine struct {
	cfg     Config
	now     time.Time
	nowAt   instant // of now
	sweepAt instant // Add sweeps at this time: a second after the last sweep
	open    map[stateKey]*state
	// quiet holds the open incidents by their End when queued, earliest
	// first, so that Advance finds those quiet for longer than the gap
	// without looking at the others. An End that moved on since is
	// seen when the incident comes up, and it is queued again.
	quiet  endQueue
	recent []*state // closed, reopenable until End+Recur
	// No recent incident ends before recentEnd: Advance looks at them
	// only once the recurrence window of one may have passed.
	recentEnd instant
	pools     map[string]string
	requests  map[reqKey]reqRef
	// found caches open incidents in the slot of their key (foundSlot),
	// so that most records find theirs without a map lookup by two
	// strings. A slot holds nil or an incident in open: unsetOpen keeps
	// it so.
	found   [256]*state
	markers []marker
	unknown *Templates
	// unowned lists the incidents whose last record's text or last vhost
	// is not a copy, once OwnText was called: the next call copies them.
	unowned  []*state
	ownsText bool     // OwnText was called: unowned is kept
	closing  []*state // closeQuiet's, kept for the next sweep
}

// stateKey is what an open incident is found by: its group and subject.
type stateKey struct{ group, subject string }

type state struct {
	// What every record reads or writes comes first, together, so that
	// a record touches few cache lines of its incident.
	key stateKey
	// countRule is the rule of the last record, counts[countAt]; its
	// records not yet counted there are countPend.
	countRule        *rules.Rule
	countPend        int64
	countAt          int
	seq              int64
	startAt, endAt   instant // of in.Start and in.End
	minute           int64   // the calendar minute counted in perMinute (instant.minute)
	perMinute        int64
	vhosts, requests topN
	clients          clientSet
	sources          []string
	last             Sample // the last record (see sample)
	lastVHost        string // of the last record with a vhost: en.VHost
	slot             uint8  // foundSlot of key
	inOpen           bool   // in Engine.open: set by setOpen and unsetOpen only
	lastOwned        bool   // last.Text is a copy, not the record's own text
	vhostOwned       bool   // lastVHost is a copy (see ownLast)
	listed           bool   // in Engine.unowned
	fastcgi          bool
	queued           bool // in Engine.quiet

	in         Incident
	pendingFor string // pool name, for an incident keyed by an unmapped pool
	// counts holds the incident's rules in the order they came, with
	// their records (CountsByRule, filled from it by syncCounts).
	counts   []ruleCount
	scripts  topN
	statuses []int
	// For events: whether "opened" was sent, and what it said.
	announced     bool
	announcedPeak int64
	announcedSev  rules.Severity
	rootID        string
}

// ruleCount is one rule of an incident. A record of a rule other than
// the last record's finds its rule here by a short search by pointer
// (incidents have few rules), not by hashing the rule's id.
type ruleCount struct {
	r       *rules.Rule
	n       int64 // records; the run of countRule goes in with flushCounts
	first   int64 // order of first appearance (state.seq)
	sampled bool  // a record of it is in Samples
}

type reqKey struct {
	server parser.Server
	pid    int64
	thread int64
}

type reqRef struct {
	st *state
	at time.Time
}

type marker struct {
	at     time.Time
	server parser.Server
	kind   string
}

// New returns an engine.
func New(cfg Config) *Engine {
	if cfg.Gap <= 0 {
		cfg.Gap = DefaultGap
	}
	if cfg.Recur < cfg.Gap {
		cfg.Recur = max(DefaultRecur, cfg.Gap)
	}
	if cfg.Templates <= 0 {
		cfg.Templates = 200
	}
	e := &Engine{
		cfg:       cfg,
		open:      map[stateKey]*state{},
		pools:     map[string]string{},
		requests:  map[reqKey]reqRef{},
		unknown:   NewTemplates(cfg.Templates),
		recentEnd: noEnd,
		nowAt:     instantOf(time.Time{}),
		sweepAt:   instantOf(time.Time{}),
	}
	for pool, addr := range cfg.Pools {
		e.pools[pool] = canonicalAddr(addr)
	}
	return e
}

// Unknown returns the templates of severe records no rule matched.
func (e *Engine) Unknown() []Template { return e.unknown.List() }

// Add takes one record and its match (nil when no rule matched).
func (e *Engine) Add(en *parser.Entry, m *rules.Match) {
	var p Prepared
	Prepare(en, m, &p)
	e.AddPrepared(en, m, &p)
}

// AddPrepared is Add for a record whose Prepare(en, m, p) is done,
// maybe on another goroutine: a pipeline that matches records on every
// core prepares them there too.
func (e *Engine) AddPrepared(en *parser.Entry, m *rules.Match, p *Prepared) {
	if e.nowAt.before(p.at) {
		e.now, e.nowAt = en.Time, p.at
	}
	if !e.nowAt.before(e.sweepAt) {
		e.Advance(e.now)
	}
	if m == nil {
		if p.unknown {
			e.unknown.add(en, p.text)
		}
		return
	}
	r := m.Rule
	if r.Marker != "" {
		e.addMarker(marker{en.Time, en.Server, r.Marker})
		return
	}
	if p.group == noGroup {
		return // lifecycle: no incident
	}
	group, kind := p.group.of(r), p.kind.of(r)
	st := e.find(en, m, p, group, kind)
	if st == nil {
		if r.Role == "context" {
			return // context joins an incident, never starts one
		}
		st = e.start(group, p.text, kind, en, p.at)
	}
	newRule, newSource := e.update(st, en, m, p)
	if kind == "pool" {
		e.attachPool(st, m.Subject)
	}
	if e.cfg.OnEvent != nil {
		e.notify(st, newRule, newSource, r.ID, en.File)
	}
	if en.Server == parser.Apache && en.PID != 0 {
		e.requests[reqKey{en.Server, en.PID, en.TID}] = reqRef{st, en.Time}
	}
}

// canonicalAddr writes socket paths the way nginx names them, so that a
// php-fpm "/run/php/x.sock" and nginx "unix:/run/php/x.sock" meet.
func canonicalAddr(s string) string {
	if strings.HasPrefix(s, "/") {
		return "unix:" + s
	}
	return s
}

func key(group, subject string) stateKey { return stateKey{group, subject} }

// find returns the incident of group and p's subject, of kind, a match
// belongs to, or nil.
func (e *Engine) find(en *parser.Entry, m *rules.Match, p *Prepared, group, kind string) *state {
	r := m.Rule
	subject := p.text
	// Apache logs one request's failure in several records of the same
	// thread within microseconds (AH00957 then AH01114; AH01102 then
	// AH00898); only the first names the backend.
	if en.Server == parser.Apache && group == "backend" {
		if ref, ok := e.requests[reqKey{en.Server, en.PID, en.TID}]; ok && en.Time.Sub(ref.at) <= time.Second && ref.st.in.Group == group && e.isLive(ref.st) {
			return e.revive(ref.st)
		}
	}
	// A pool's incident is found, as it is started, by the backend the
	// pool serves; whichever server's rule names the pool.
	if group == "backend" && kind == "pool" {
		return e.findPool(m.Subject)
	}
	if p.groupName && en.VHost != "" {
		// nginx "no live upstreams" names the upstream{} group, not a
		// peer: it belongs to the incident of the members failing for
		// the same site.
		var best *state
		for _, st := range e.open {
			if st.in.Group == "backend" && st.lastVHost == en.VHost && (best == nil || st.in.End.After(best.in.End)) {
				best = st
			}
		}
		if best != nil {
			return best
		}
	}
	slot := &e.found[p.slot]
	if st := *slot; st != nil && st.key.group == group && st.key.subject == subject {
		return st
	}
	k := key(group, subject)
	if st, ok := e.open[k]; ok {
		*slot = st
		return st
	}
	// A symptom the closed incident already had, coming back soon: the
	// same outage, recurring.
	if r.Role == "symptom" {
		for i := len(e.recent) - 1; i >= 0; i-- {
			st := e.recent[i]
			// The slot first: most keys differ there, and it is no string.
			if st.slot == p.slot && st.key == k && en.Time.Sub(st.in.End) <= e.cfg.Recur && st.has(r) {
				return e.revive(st)
			}
		}
	}
	return nil
}

// setOpen puts st in open, under its key, in place of any other there
// (none so far: an incident is made or revived for a key with none).
func (e *Engine) setOpen(st *state) {
	if old := e.open[st.key]; old != nil && old != st {
		e.unsetOpen(old)
	}
	e.open[st.key] = st
	st.inOpen = true
}

// unsetOpen takes st out of open, and out of the cache of found.
func (e *Engine) unsetOpen(st *state) {
	delete(e.open, st.key)
	st.inOpen = false
	if slot := &e.found[st.slot]; *slot == st {
		*slot = nil
	}
}

func (e *Engine) isLive(st *state) bool {
	if st.inOpen {
		return true
	}
	return slices.Contains(e.recent, st)
}

// revive makes a recently closed incident open again.
func (e *Engine) revive(st *state) *state {
	if st.inOpen {
		return st
	}
	if i := slices.Index(e.recent, st); i >= 0 {
		e.recent = slices.Delete(e.recent, i, i+1)
	}
	if other, ok := e.open[st.key]; ok && other != st {
		e.merge(st, other)
	}
	e.setOpen(st)
	e.queue(st)
	st.in.Open = true
	if st.announced {
		e.emit(Opened, st, []string{"reopened: the symptom came back"})
	}
	return st
}

// findPool maps a php-fpm pool to the backend incident it serves.
func (e *Engine) findPool(pool string) *state {
	if addr, ok := e.pools[pool]; ok {
		k := key("backend", addr)
		if st, ok := e.open[k]; ok {
			return st
		}
		return nil
	}
	// Not mapped yet: the one open FastCGI backend incident with no other
	// pool attached is the one this pool serves.
	var cand []*state
	for _, st := range e.open {
		if st.in.Group == "backend" && st.fastcgi && st.pendingFor == "" &&
			(len(st.in.Pools) == 0 || slices.Contains(st.in.Pools, pool)) {
			cand = append(cand, st)
		}
	}
	if len(cand) == 1 {
		e.pools[strings.Clone(pool)] = cand[0].in.Subject
		return cand[0]
	}
	if st, ok := e.open[key("backend", "pool:"+pool)]; ok {
		return st
	}
	return nil
}

func (e *Engine) start(group, subject, kind string, en *parser.Entry, at instant) *state {
	if group == "backend" && kind == "pool" {
		if addr, ok := e.pools[subject]; ok {
			subject, kind = addr, "socket"
			if !strings.HasPrefix(addr, "unix:") {
				kind = "upstream"
			}
		} else {
			pool := strings.Clone(subject)
			subject = "pool:" + pool
			st := e.newState(group, subject, kind, en, at)
			st.pendingFor = pool
			return st
		}
	}
	return e.newState(group, subject, kind, en, at)
}

func (e *Engine) newState(group, subject, kind string, en *parser.Entry, at instant) *state {
	// The subject may be part of the record's text: keep a copy, not the
	// block of input the text lies in.
	subject = strings.Clone(subject)
	st := &state{
		key:        key(group, subject),
		slot:       foundSlot(group, subject),
		vhosts:     newTopN(64),
		requests:   newTopN(64),
		scripts:    newTopN(32),
		vhostOwned: true,
		startAt:    at,
		endAt:      at,
	}
	st.in = Incident{
		Group: group, Subject: subject, SubjectKind: kind, Start: en.Time, End: en.Time, Open: true,
	}
	st.in.ID = incidentID(&st.in)
	e.setOpen(st)
	e.queue(st)
	return st
}

// attachPool records that a pool's events are in st; a backend incident
// that learns its pool absorbs an incident opened for that pool before the
// web server's errors arrived.
func (e *Engine) attachPool(st *state, pool string) {
	if !slices.Contains(st.in.Pools, pool) {
		st.in.Pools = append(st.in.Pools, strings.Clone(pool))
		sort.Strings(st.in.Pools)
	}
}

func (e *Engine) update(st *state, en *parser.Entry, m *rules.Match, p *Prepared) (newRule, newSource bool) {
	r := m.Rule
	in := &st.in
	// Records come in runs of one rule: a run is counted aside and put
	// into counts when another rule comes or before it is read
	// (flushCounts). What depends on the rule alone is done once a run
	// too: a merge ends the run (countRule).
	sameRule := r == st.countRule
	if sameRule {
		st.countPend++
	} else {
		st.flushCounts()
		i := st.ruleAt(r)
		if i < 0 {
			newRule = true
			i = len(st.counts)
			st.counts = append(st.counts, ruleCount{first: st.seq})
		}
		c := &st.counts[i]
		c.r = r // the latest rule of the id, as the others are
		c.n++
		st.countRule, st.countAt = r, i
		if r.Role != "context" && r.Severity > in.Severity {
			in.Severity = r.Severity
		}
		if r.HTTPStatus != 0 && !slices.Contains(st.statuses, r.HTTPStatus) {
			st.statuses = append(st.statuses, r.HTTPStatus)
		}
	}
	if p.at.before(st.startAt) {
		in.Start, st.startAt = en.Time, p.at
	}
	if st.endAt.before(p.at) {
		in.End, st.endAt = en.Time, p.at
	}
	in.Count++
	st.seq++
	if minute := p.at.minute(); minute == st.minute && st.perMinute > 0 {
		st.perMinute++ // the minute of the record before
	} else {
		st.minute, st.perMinute = minute, 1
	}
	if st.perMinute > in.PeakPerMinute {
		in.PeakPerMinute = st.perMinute
	}
	if vhost := vhostOf(en); vhost != "" {
		kept := st.vhosts.add(vhost, p.vhostHash)
		switch {
		case en.VHost == "" || en.VHost == "_":
			// vhost is the Host asked for.
			st.lastVHost, st.vhostOwned = "", true
			if en.VHost != "" {
				st.lastVHost = "_"
			}
		case kept != "":
			st.lastVHost, st.vhostOwned = kept, true // the table's copy
		default:
			// No room in the table: the record's own, copied with the
			// last record's text (ownLast).
			st.lastVHost, st.vhostOwned = en.VHost, false
		}
	}
	if en.Request != "" {
		st.requests.add(en.Request, p.requestHash)
	}
	if p.script {
		s := scriptOf(m)
		st.scripts.add(s, hashString(s))
	}
	switch p.client {
	case clientV4:
		st.clients.addV4(p.clientV4)
	case clientText:
		st.clients.addText(clientIP(en.Client))
	}
	if en.File != "" && !slices.Contains(st.sources, en.File) && len(st.sources) < 32 {
		st.sources = append(st.sources, en.File)
		newSource = len(st.sources) > 1
	}
	if p.fastcgi && !st.fastcgi {
		st.fastcgi = true
		e.adoptPendingPool(st)
	}
	e.sample(st, en, r.ID, sameRule)
	return newRule, newSource
}

// adoptPendingPool merges into a FastCGI backend incident the incident
// opened for an unmapped pool just before: php-fpm often logs its
// trouble a second before the web server does.
func (e *Engine) adoptPendingPool(st *state) {
	if st.pendingFor != "" || len(st.in.Pools) > 0 {
		return
	}
	var best *state
	for _, p := range e.open {
		if p.pendingFor != "" && (best == nil || p.in.End.After(best.in.End)) {
			best = p
		}
	}
	if best == nil {
		return
	}
	pool := best.pendingFor
	e.merge(st, best)
	e.pools[pool] = st.in.Subject
	e.attachPool(st, pool)
}

// merge folds src into dst and forgets src.
func (e *Engine) merge(dst, src *state) {
	dst.flushCounts()
	src.flushCounts()
	if src.inOpen {
		e.unsetOpen(src)
	}
	if i := slices.Index(e.recent, src); i >= 0 {
		e.recent = slices.Delete(e.recent, i, i+1)
	}
	a, b := &dst.in, &src.in
	switch {
	case src.announced && !dst.announced:
		// Keep the id watchers already know.
		a.ID = b.ID
		dst.announced, dst.announcedPeak, dst.announcedSev, dst.rootID = true, src.announcedPeak, src.announcedSev, src.rootID
	case src.announced && dst.announced:
		e.emit(Resolved, src, []string{"merged into " + a.ID})
	case b.Start.Before(a.Start):
		a.ID = b.ID
	}
	for _, c := range src.counts {
		// Keep the order of first appearance across both.
		first := dst.seq + c.first
		if b.Start.Before(a.Start) {
			first = c.first - src.seq
		}
		i := dst.idAt(c.r.ID)
		if i < 0 {
			dst.counts = append(dst.counts, ruleCount{r: c.r, n: c.n, first: first})
			continue
		}
		d := &dst.counts[i]
		d.r, d.n, d.first = c.r, d.n+c.n, min(d.first, first)
	}
	dst.seq += src.seq
	if b.Start.Before(a.Start) {
		a.Start, dst.startAt = b.Start, src.startAt
	}
	if b.End.After(a.End) {
		a.End, dst.endAt = b.End, src.endAt
	}
	a.Count += b.Count
	dst.countRule = nil // its records are counted: the next one is stored again
	a.Severity = max(a.Severity, b.Severity)
	a.PeakPerMinute = max(a.PeakPerMinute, b.PeakPerMinute)
	for _, p := range b.Pools {
		e.attachPool(dst, p)
	}
	dst.vhosts.merge(&src.vhosts)
	dst.requests.merge(&src.requests)
	dst.scripts.merge(&src.scripts)
	dst.clients.merge(&src.clients)
	for _, s := range src.sources {
		if !slices.Contains(dst.sources, s) {
			dst.sources = append(dst.sources, s)
		}
	}
	for _, s := range src.statuses {
		if !slices.Contains(dst.statuses, s) {
			dst.statuses = append(dst.statuses, s)
		}
	}
	for _, s := range b.Samples {
		if c := &dst.counts[dst.idAt(s.RuleID)]; !c.sampled && len(a.Samples) < maxSamples-1 {
			c.sampled = true
			a.Samples = append(a.Samples, s)
		}
	}
	sort.SliceStable(a.Samples, func(i, j int) bool { return a.Samples[i].Time.Before(a.Samples[j].Time) })
	if src.last.Time.After(dst.last.Time) {
		dst.last, dst.lastOwned = src.last, src.lastOwned
		if !dst.lastOwned {
			e.disowned(dst)
		}
	}
	dst.fastcgi = dst.fastcgi || src.fastcgi
	for k, ref := range e.requests {
		if ref.st == src {
			e.requests[k] = reqRef{dst, ref.at}
		}
	}
}

const maxSamples = 12

// sample keeps the first record of each rule (up to maxSamples) and the
// incident's last record.
//
// A sample that is kept is a copy of the record's text, which otherwise
// would keep the whole block of input it lies in. The last record changes
// with every record, so it is copied only when the incident stops taking
// records or is handed out, or when OwnText is called (the incident is
// listed for it then, as it is when its last vhost is the record's own).
//
// sameRule says the incident's record before was of the same rule, with
// no merge since: that record found the rule sampled or no room left,
// and so does this one.
func (e *Engine) sample(st *state, en *parser.Entry, ruleID string, sameRule bool) {
	s := Sample{Time: en.Time, File: en.File, Line: en.Line, RuleID: ruleID, Text: en.Raw}
	if len(s.Text) > 4096 {
		s.Text = s.Text[:4096]
	}
	st.last, st.lastOwned = s, false
	if !sameRule && len(st.in.Samples) < maxSamples-1 {
		if c := &st.counts[st.countAt]; !c.sampled {
			c.sampled = true
			s.Text = strings.Clone(s.Text)
			st.last, st.lastOwned = s, true
			st.in.Samples = append(st.in.Samples, s)
		}
	}
	if !st.lastOwned || !st.vhostOwned {
		e.disowned(st)
	}
}

// flushCounts puts the records counted aside into counts.
func (st *state) flushCounts() {
	if st.countPend > 0 {
		st.counts[st.countAt].n += st.countPend
		st.countPend = 0
	}
}

// ruleAt returns the place of r's id in counts, or -1.
func (st *state) ruleAt(r *rules.Rule) int {
	for i := range st.counts {
		if st.counts[i].r == r {
			return i
		}
	}
	return st.idAt(r.ID)
}

// idAt returns the place of a rule id in counts, or -1.
func (st *state) idAt(id string) int {
	for i := range st.counts {
		if st.counts[i].r.ID == id {
			return i
		}
	}
	return -1
}

// has reports whether the incident has a record of r's id.
func (st *state) has(r *rules.Rule) bool { return st.ruleAt(r) >= 0 }

// syncCounts fills CountsByRule from counts.
func (st *state) syncCounts() {
	st.flushCounts()
	if st.in.CountsByRule == nil {
		st.in.CountsByRule = make(map[string]int64, len(st.counts))
	}
	for _, c := range st.counts {
		st.in.CountsByRule[c.r.ID] = c.n
	}
}

// OwnText copies what the engine keeps of the records' text and still
// shares with them, the last record and last vhost of each open
// incident, so that the text of the records added so far may change
// after it returns (see timeline.MergeReusing). Everything else the
// engine keeps of a record's text is a copy from the start.
func (e *Engine) OwnText() {
	if !e.ownsText {
		// From now on the incidents that take a record are listed; those
		// before are all in open or already own theirs.
		e.ownsText = true
		for _, st := range e.open {
			st.ownLast()
		}
		return
	}
	for i, st := range e.unowned {
		st.ownLast()
		st.listed = false
		e.unowned[i] = nil
	}
	e.unowned = e.unowned[:0]
}

// disowned notes that st's last record's text or last vhost is the
// record's own, for OwnText to copy.
//
// The list grows until OwnText empties it, which may be long: in a
// rotated set, the input whose blocks are lent may be the last merged.
// So before the list outgrows its room, the incidents that own their text
// since they were listed (all those that closed) leave it: it holds about
// the open incidents, not every incident since the last OwnText, which
// would also keep finished incidents from the collector.
func (e *Engine) disowned(st *state) {
	if !e.ownsText || st.listed {
		return
	}
	if n := len(e.unowned); n == cap(e.unowned) && n >= 64 {
		e.unowned = slices.DeleteFunc(e.unowned, func(s *state) bool {
			owned := s.lastOwned && s.vhostOwned
			s.listed = !owned
			return owned
		})
	}
	st.listed = true
	e.unowned = append(e.unowned, st)
}

// ownLast makes the last sample and the last vhost copies of their
// record's text.
func (st *state) ownLast() {
	if !st.lastOwned {
		st.last.Text = strings.Clone(st.last.Text)
		st.lastOwned = true
	}
	if !st.vhostOwned {
		st.lastVHost = strings.Clone(st.lastVHost)
		st.vhostOwned = true
	}
}

// Advance closes the incidents quiet since the gap and finalises those
// that can no longer reopen. Call it with the current time when following
// live logs, so incidents resolve without waiting for the next record.
func (e *Engine) Advance(now time.Time) {
	if now.After(e.now) {
		e.now, e.nowAt = now, instantOf(now)
	}
	e.sweepAt = e.nowAt.add(time.Second)
	// Quiet since the gap: an End before now minus the gap.
	if quietBefore := e.nowAt.add(-e.cfg.Gap); len(e.quiet) > 0 && e.quiet[0].end.before(quietBefore) {
		e.closeQuiet(quietBefore)
	}
	// Past reopening: an End before now minus the recurrence window.
	if recurBefore := e.nowAt.add(-e.cfg.Recur); e.recentEnd.before(recurBefore) {
		e.finalizeOld(recurBefore)
	}
	for k, ref := range e.requests {
		if e.now.Sub(ref.at) > time.Second {
			delete(e.requests, k)
		}
	}
	cut := 0
	for cut < len(e.markers) && e.now.Sub(e.markers[cut].at) > 2*e.cfg.Recur {
		cut++
	}
	e.markers = e.markers[cut:]
}

// queue puts an open incident in the quiet queue, unless it is there.
func (e *Engine) queue(st *state) {
	if !st.queued {
		st.queued = true
		e.quiet.push(queued{st.endAt, st})
	}
}

// closeQuiet closes the open incidents quiet for longer than the gap:
// those that end before quietBefore.
func (e *Engine) closeQuiet(quietBefore instant) {
	// The list of the last sweep, taken: one that an event's receiver
	// starts has its own.
	closing := e.closing[:0]
	e.closing = nil
	for len(e.quiet) > 0 && e.quiet[0].end.before(quietBefore) {
		st := e.quiet.pop()
		st.queued = false
		switch {
		case !st.inOpen:
			// Closed or merged away since.
		case st.endAt.before(quietBefore):
			closing = append(closing, st)
		default:
			e.queue(st) // records came since it was queued
		}
	}
	slices.SortFunc(closing, func(a, b *state) int { return a.in.End.Compare(b.in.End) })
	for _, st := range closing {
		e.unsetOpen(st)
		st.in.Open = false
		st.ownLast()
		e.recent = append(e.recent, st)
		e.recentEnd = minInstant(e.recentEnd, st.endAt)
		if st.announced {
			e.emit(Resolved, st, nil)
		}
	}
	clear(closing)
	e.closing = closing[:0]
}

// finalizeOld finalises the closed incidents that can no longer reopen:
// those that end before recurBefore.
func (e *Engine) finalizeOld(recurBefore instant) {
	keep := e.recent[:0]
	e.recentEnd = noEnd
	for _, st := range e.recent {
		if st.endAt.before(recurBefore) {
			e.finalize(st)
			continue
		}
		keep = append(keep, st)
		e.recentEnd = minInstant(e.recentEnd, st.endAt)
	}
	clear(e.recent[len(keep):])
	e.recent = keep
}

// endQueue is a min-heap of incidents by the End they had when queued.
// The End is kept beside the incident, so that ordering the heap reads
// the heap alone, not every incident it moves past. It orders as
// container/heap does.
type endQueue []queued

type queued struct {
	end instant // the incident's End when queued
	st  *state
}

func (q endQueue) less(i, j int) bool { return q[i].end.before(q[j].end) }

func (q *endQueue) push(x queued) {
	*q = append(*q, x)
	h := *q
	for j := len(h) - 1; ; {
		i := (j - 1) / 2 // parent
		if i == j || !h.less(j, i) {
			break
		}
		h[i], h[j] = h[j], h[i]
		j = i
	}
}

// pop removes and returns the incident queued with the earliest End.
func (q *endQueue) pop() *state {
	h := *q
	n := len(h) - 1
	h[0], h[n] = h[n], h[0]
	for i := 0; ; {
		j := 2*i + 1
		if j >= n {
			break
		}
		if j2 := j + 1; j2 < n && h.less(j2, j) {
			j = j2
		}
		if !h.less(j, i) {
			break
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
	st := h[n].st
	h[n] = queued{}
	*q = h[:n]
	return st
}

// noEnd is later than any record's time: the recentEnd of no incidents.
var noEnd = instant{sec: 1 << 60}

func minInstant(a, b instant) instant {
	if b.before(a) {
		return b
	}
	return a
}

// Flush closes and finalises every incident, at the end of the input.
func (e *Engine) Flush() {
	e.Advance(e.now.Add(e.cfg.Recur + e.cfg.Gap + time.Second))
}

func (e *Engine) addMarker(m marker) {
	e.markers = append(e.markers, m)
	if len(e.markers) > 1024 {
		e.markers = e.markers[len(e.markers)-1024:]
	}
}

func (e *Engine) finalize(st *state) {
	in := e.derive(st)
	in.Open = false
	if e.deployBlip(in) {
		in.DeployBlip = true
		in.Severity = min(in.Severity, rules.SeverityWarning)
	}
	if e.cfg.Final != nil {
		e.cfg.Final(in)
	}
}

// derive fills the fields computed from the running state (top tables,
// root cause, the last sample) into st.in and returns it.
func (e *Engine) derive(st *state) *Incident {
	st.syncCounts()
	in := &st.in
	in.VHosts = st.vhosts.top(5)
	in.Requests = st.requests.top(5)
	in.Scripts = st.scripts.top(5)
	in.Clients = int64(st.clients.len())
	in.Sources = slices.Clone(st.sources)
	in.HTTPStatus = slices.Clone(st.statuses)
	slices.Sort(in.HTTPStatus)
	st.ownLast()
	samples := in.Samples
	if n := len(samples); n > 0 && !slices.ContainsFunc(samples, func(s Sample) bool { return s.File == st.last.File && s.Line == st.last.Line }) {
		samples = append(slices.Clip(samples), st.last)
	}
	e.explain(st)
	out := *in
	out.Samples = samples
	return &out
}

// snapshot is a copy of the incident as it stands, safe to hand out.
func (e *Engine) snapshot(st *state) *Incident {
	in := e.derive(st)
	in.CountsByRule = maps.Clone(in.CountsByRule)
	in.Pools = slices.Clone(in.Pools)
	in.Samples = slices.Clone(in.Samples)
	in.Remediation = slices.Clone(in.Remediation)
	in.Diagnostics = slices.Clone(in.Diagnostics)
	return in
}

// openAfter is the count at which an incident of severity sev is announced.
func (e *Engine) openAfter(sev rules.Severity) int64 {
	if n, ok := e.cfg.OpenAfter[sev]; ok {
		return n
	}
	return DefaultOpenAfter[sev]
}

// notify sends opened once an incident has enough evidence, then updated
// when it escalates.
func (e *Engine) notify(st *state, newRule, newSource bool, ruleID, file string) {
	in := &st.in
	if !st.announced {
		if n := e.openAfter(in.Severity); n > 0 && in.Count >= n {
			st.announced, st.announcedPeak, st.announcedSev = true, in.PeakPerMinute, in.Severity
			st.rootID = e.rootRule(st).ID
			e.emit(Opened, st, nil)
		}
		return
	}
	var reasons []string
	if newRule {
		if root := e.rootRule(st).ID; root != st.rootID {
			st.rootID = root
			reasons = append(reasons, "root cause: "+root)
		} else {
			reasons = append(reasons, "new evidence: "+ruleID)
		}
	}
	if newSource {
		reasons = append(reasons, "new log: "+file)
	}
	if in.Severity > st.announcedSev {
		st.announcedSev = in.Severity
		reasons = append(reasons, "severity: "+in.Severity.String())
	}
	if in.PeakPerMinute >= 4 && in.PeakPerMinute >= 2*st.announcedPeak {
		st.announcedPeak = in.PeakPerMinute
		reasons = append(reasons, fmt.Sprintf("rate doubled: %d/min", in.PeakPerMinute))
	}
	if len(reasons) > 0 {
		e.emit(Updated, st, reasons)
	}
}

func (e *Engine) emit(kind string, st *state, reasons []string) {
	if e.cfg.OnEvent == nil {
		return
	}
	e.cfg.OnEvent(Event{Kind: kind, Time: e.now, Reasons: reasons, Incident: e.snapshot(st)})
}

// Open returns snapshots of the incidents not yet final (open and
// recently closed), oldest first: what a watcher still tracks.
func (e *Engine) Open() []*Incident {
	var out []*Incident
	for _, st := range e.open {
		out = append(out, e.snapshot(st))
	}
	for _, st := range e.recent {
		out = append(out, e.snapshot(st))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// rootRule is the deepest evidence: the cause explaining the most of the
// incident's records; else a cause-role rule before any symptom, then the
// most severe, then the one logged first.
func (e *Engine) rootRule(st *state) *rules.Rule {
	st.flushCounts()
	type candidate struct {
		*ruleCount
		explained int64 // records of this incident a cause accounts for
		rank      int   // cause 2, symptom 1, context 0
	}
	score := func(c *ruleCount) candidate {
		cand := candidate{ruleCount: c}
		switch c.r.Role {
		case "cause":
			cand.rank = 2
			for _, other := range st.counts {
				if c.r.ExplainsRule(other.r.ID) {
					cand.explained += other.n
				}
			}
		case "symptom":
			cand.rank = 1
		}
		return cand
	}
	// better orders candidates: most records explained (php-fpm out of
	// children explains nginx's refusals and timeouts), cause before
	// symptom, most severe, logged first (php-fpm writes "execution timed
	// out, terminating" before the child's exit), then by id.
	better := func(a, b candidate) bool {
		switch {
		case a.explained != b.explained:
			return a.explained > b.explained
		case a.rank != b.rank:
			return a.rank > b.rank
		case a.r.Severity != b.r.Severity:
			return a.r.Severity > b.r.Severity
		case a.first != b.first:
			return a.first < b.first
		}
		return a.r.ID < b.r.ID
	}
	var best candidate
	for i := range st.counts {
		if c := score(&st.counts[i]); best.ruleCount == nil || better(c, best) {
			best = c
		}
	}
	if best.ruleCount == nil {
		return nil
	}
	return best.r
}

// explain sets the root cause and assembles the title, remediation and
// diagnostics.
func (e *Engine) explain(st *state) {
	in := &st.in
	root := e.rootRule(st)
	in.RootCause = RootCause{RuleID: root.ID, Title: root.Title, Cause: root.Cause, Count: in.CountsByRule[root.ID]}
	in.Title = root.Title
	in.Remediation = appendUnique(nil, root.Remediation, 10)
	in.Diagnostics = appendUnique(nil, root.Diagnostics, 10)
	// The commonest symptom adds what to check on the web server side; its
	// remediation would repeat the root cause's in other words.
	// The order of RuleIDs: most records first, then the smaller id.
	var top *ruleCount
	for i := range st.counts {
		c := &st.counts[i]
		if c.r == root || c.r.Role != "symptom" {
			continue
		}
		if top == nil || c.n > top.n || c.n == top.n && c.r.ID < top.r.ID {
			top = c
		}
	}
	if top != nil {
		in.Diagnostics = appendUnique(in.Diagnostics, top.r.Diagnostics, 8)
	}
}

func appendUnique(dst, src []string, limit int) []string {
	if dst == nil && len(src) > 0 {
		dst = make([]string, 0, min(len(src), limit))
	}
	for _, s := range src {
		if len(dst) >= limit {
			break
		}
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

// deployBlip reports an incident inside a restart or reload window that
// ended with the service back: a stop or reload marker from 15 s before
// the first error to its end, the service up again within a minute of
// it, and the errors over within 10 s of that.
func (e *Engine) deployBlip(in *Incident) bool {
	if in.Duration() > time.Minute {
		return false
	}
	for i, m := range e.markers {
		if m.kind == "up" || m.at.Before(in.Start.Add(-15*time.Second)) || m.at.After(in.End) {
			continue
		}
		if m.kind == "reload" && m.server == parser.Nginx && !in.End.After(m.at.Add(10*time.Second)) {
			return true // nginx reloads in place and logs no "up"
		}
		for _, u := range e.markers[i+1:] {
			if u.kind == "up" && u.server == m.server && !u.at.After(m.at.Add(time.Minute)) {
				return !in.End.After(u.at.Add(10 * time.Second))
			}
		}
	}
	return false
}

// incidentID is the incident's start, to the second, and 24 bits of the
// 32-bit FNV-1a hash of its group, a zero byte and its subject, in hex.
// It is made without hashers or formatting that allocate: every
// incident gets one.
func incidentID(in *Incident) string {
	const offset32, prime32 = 2166136261, 16777619
	h := uint32(offset32)
	for _, s := range [...]string{in.Group, "\x00", in.Subject} {
		for i := range len(s) {
			h = (h ^ uint32(s[i])) * prime32
		}
	}
	var buf [32]byte
	b := in.Start.UTC().AppendFormat(buf[:0], "20060102T150405")
	b = append(b, '-')
	const digits = "0123456789abcdef"
	for shift := 20; shift >= 0; shift -= 4 {
		b = append(b, digits[h>>shift&0xf])
	}
	return string(b)
}

func clientIP(c string) string {
	// Apache writes ip:port, nginx the address alone; [v6]:port too.
	if strings.HasPrefix(c, "[") {
		if i := strings.IndexByte(c, ']'); i > 0 {
			return c[1:i]
		}
	}
	// One colon: ip:port. None (nginx's IPv4, the common case) or more
	// (IPv6): the address as it is.
	i := strings.IndexByte(c, ':')
	if i >= 0 && strings.IndexByte(c[i+1:], ':') < 0 {
		return c[:i]
	}
	return c
}
