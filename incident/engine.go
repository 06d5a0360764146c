package incident

import (
	"container/heap"
	"fmt"
	"hash/fnv"
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
	sweepAt time.Time // Add sweeps at this time: a second after the last sweep
	open    map[stateKey]*state
	// quiet holds the open incidents by their End when queued, earliest
	// first, so that Advance finds those quiet for longer than the gap
	// without looking at the others. An End that moved on since is
	// seen when the incident comes up, and it is queued again.
	quiet  endQueue
	recent []*state // closed, reopenable until End+Recur
	// No recent incident ends before recentEnd: Advance looks at them
	// only once the recurrence window of one may have passed.
	recentEnd time.Time
	pools     map[string]string
	requests  map[reqKey]reqRef
	// found caches open incidents in the slot of their key (foundSlot),
	// so that most records find theirs without a map lookup by two
	// strings. A slot holds nil or an incident in open: unsetOpen keeps
	// it so.
	found   [256]*state
	markers []marker
	unknown *Templates
	// unowned lists the incidents whose last record's text is not a copy,
	// once OwnText was called: the next call copies theirs.
	unowned  []*state
	ownsText bool // OwnText was called: unowned is kept
}

// stateKey is what an open incident is found by: its group and subject.
type stateKey struct{ group, subject string }

type state struct {
	in         Incident
	key        stateKey
	slot       uint8 // foundSlot of key
	inOpen     bool  // in Engine.open: set by setOpen and unsetOpen only
	lastVHost  string
	fastcgi    bool
	pendingFor string    // pool name, for an incident keyed by an unmapped pool
	minute     time.Time // the calendar minute counted in perMinute
	minuteEnd  time.Time // minute plus one minute
	perMinute  int64
	roles      map[string]*rules.Rule
	first      map[string]int64 // order in which each rule first appeared
	seq        int64
	vhosts     topN
	requests   topN
	scripts    topN
	clients    clientSet
	sources    []string
	perRule    map[string]bool // rules with a sample already
	last       Sample
	lastOwned  bool // last.Text is a copy, not the record's own text
	listed     bool // in Engine.unowned
	// countRule is the rule of the last record, in roles; its records
	// not yet in CountsByRule are countPend.
	countRule *rules.Rule
	countPend int64
	queued    bool      // in Engine.quiet
	queuedEnd time.Time // End when queued
	statuses  []int
	// For events: whether "opened" was sent, and what it said.
	announced     bool
	announcedPeak int64
	announcedSev  rules.Severity
	rootID        string
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
	if en.Time.After(e.now) {
		e.now = en.Time
	}
	if !e.now.Before(e.sweepAt) {
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
	st := e.find(en, m, p, group)
	if st == nil {
		if r.Role == "context" {
			return // context joins an incident, never starts one
		}
		st = e.start(group, p.text, kind, en)
	}
	newRule, newSource := e.update(st, en, m, p)
	if kind == "pool" {
		e.attachPool(st, m.Subject)
	}
	e.notify(st, newRule, newSource, r.ID, en.File)
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

// find returns the incident of group and p's subject a match belongs
// to, or nil.
func (e *Engine) find(en *parser.Entry, m *rules.Match, p *Prepared, group string) *state {
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
	if group == "backend" && r.SubjectKind == "pool" && r.HasServer(parser.FPM) {
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
			if st.key == k && en.Time.Sub(st.in.End) <= e.cfg.Recur && st.in.CountsByRule[r.ID] > 0 {
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

func (e *Engine) start(group, subject, kind string, en *parser.Entry) *state {
	if group == "backend" && kind == "pool" {
		if addr, ok := e.pools[subject]; ok {
			subject, kind = addr, "socket"
			if !strings.HasPrefix(addr, "unix:") {
				kind = "upstream"
			}
		} else {
			pool := strings.Clone(subject)
			subject = "pool:" + pool
			st := e.newState(group, subject, kind, en)
			st.pendingFor = pool
			return st
		}
	}
	st := e.newState(group, subject, kind, en)
	return st
}

func (e *Engine) newState(group, subject, kind string, en *parser.Entry) *state {
	// The subject may be part of the record's text: keep a copy, not the
	// block of input the text lies in.
	subject = strings.Clone(subject)
	st := &state{
		key:      key(group, subject),
		slot:     foundSlot(group, subject),
		roles:    map[string]*rules.Rule{},
		first:    map[string]int64{},
		vhosts:   newTopN(64),
		requests: newTopN(64),
		scripts:  newTopN(32),
		perRule:  map[string]bool{},
	}
	st.in = Incident{
		Group: group, Subject: subject, SubjectKind: kind, Start: en.Time, End: en.Time,
		CountsByRule: map[string]int64{}, Open: true,
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
	// into CountsByRule when another rule comes or before it is read
	// (flushCounts), not with two map operations per record.
	sameRule := r == st.countRule
	if sameRule {
		st.countPend++
	} else {
		st.flushCounts()
		n := in.CountsByRule[r.ID]
		newRule = n == 0
		in.CountsByRule[r.ID] = n + 1
		st.countRule = r
		st.roles[r.ID] = r
	}
	if en.Time.Before(in.Start) {
		in.Start = en.Time
	}
	if en.Time.After(in.End) {
		in.End = en.Time
	}
	in.Count++
	if newRule {
		st.first[r.ID] = st.seq
	}
	st.seq++
	if r.Role != "context" && r.Severity > in.Severity {
		in.Severity = r.Severity
	}
	if !en.Time.Before(st.minute) && en.Time.Before(st.minuteEnd) {
		st.perMinute++ // the minute of the record before
	} else {
		minute := en.Time.Truncate(time.Minute)
		st.minute, st.minuteEnd, st.perMinute = minute, minute.Add(time.Minute), 1
	}
	if st.perMinute > in.PeakPerMinute {
		in.PeakPerMinute = st.perMinute
	}
	if vhost := vhostOf(en); vhost != "" {
		kept := st.vhosts.add(vhost, p.vhostHash)
		if en.VHost != st.lastVHost {
			// A copy: the table's, when it keeps this vhost (a backend
			// serving several sites changes its last one often).
			st.lastVHost = kept
			if kept == "" || vhost != en.VHost {
				st.lastVHost = strings.Clone(en.VHost)
			}
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
	if r.HTTPStatus != 0 && !slices.Contains(st.statuses, r.HTTPStatus) {
		st.statuses = append(st.statuses, r.HTTPStatus)
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
	for id, f := range src.first {
		// Keep the order of first appearance across both.
		v := dst.seq + f
		if b.Start.Before(a.Start) {
			v = f - src.seq
		}
		if old, ok := dst.first[id]; !ok || v < old {
			dst.first[id] = v
		}
	}
	dst.seq += src.seq
	if b.Start.Before(a.Start) {
		a.Start = b.Start
	}
	if b.End.After(a.End) {
		a.End = b.End
	}
	a.Count += b.Count
	for id, n := range b.CountsByRule {
		a.CountsByRule[id] += n
	}
	for id, r := range src.roles {
		dst.roles[id] = r
	}
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
		if !dst.perRule[s.RuleID] && len(a.Samples) < maxSamples-1 {
			dst.perRule[s.RuleID] = true
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
// records or is handed out.
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
	e.disowned(st)
	if !sameRule && !st.perRule[ruleID] && len(st.in.Samples) < maxSamples-1 {
		st.perRule[ruleID] = true
		s.Text = strings.Clone(s.Text)
		st.last, st.lastOwned = s, true
		st.in.Samples = append(st.in.Samples, s)
	}
}

// flushCounts puts the records counted aside into CountsByRule.
func (st *state) flushCounts() {
	if st.countPend > 0 {
		st.in.CountsByRule[st.countRule.ID] += st.countPend
		st.countPend = 0
	}
}

// OwnText copies what the engine keeps of the records' text and still
// shares with them, the last record of each open incident, so that the
// text of the records added so far may change after it returns (see
// timeline.MergeReusing). Everything else the engine keeps is a copy
// from the start.
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

// disowned notes that st's last record's text is the record's own, for
// OwnText to copy.
func (e *Engine) disowned(st *state) {
	if e.ownsText && !st.listed {
		st.listed = true
		e.unowned = append(e.unowned, st)
	}
}

// ownLast makes the last sample a copy of its record's text.
func (st *state) ownLast() {
	if !st.lastOwned {
		st.last.Text = strings.Clone(st.last.Text)
		st.lastOwned = true
	}
}

// Advance closes the incidents quiet since the gap and finalises those
// that can no longer reopen. Call it with the current time when following
// live logs, so incidents resolve without waiting for the next record.
func (e *Engine) Advance(now time.Time) {
	if now.After(e.now) {
		e.now = now
	}
	e.sweepAt = e.now.Add(time.Second)
	if len(e.quiet) > 0 && e.now.Sub(e.quiet[0].queuedEnd) > e.cfg.Gap {
		e.closeQuiet()
	}
	if e.now.Sub(e.recentEnd) > e.cfg.Recur {
		e.finalizeOld()
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
		st.queued, st.queuedEnd = true, st.in.End
		heap.Push(&e.quiet, st)
	}
}

// closeQuiet closes the open incidents quiet for longer than the gap.
func (e *Engine) closeQuiet() {
	var closing []*state
	for len(e.quiet) > 0 && e.now.Sub(e.quiet[0].queuedEnd) > e.cfg.Gap {
		st := heap.Pop(&e.quiet).(*state)
		st.queued = false
		switch {
		case !st.inOpen:
			// Closed or merged away since.
		case e.now.Sub(st.in.End) > e.cfg.Gap:
			closing = append(closing, st)
		default:
			e.queue(st) // records came since it was queued
		}
	}
	if len(closing) > 1 { // most sweeps close none: no sort.Slice, which allocates
		sort.Slice(closing, func(i, j int) bool { return closing[i].in.End.Before(closing[j].in.End) })
	}
	for _, st := range closing {
		e.unsetOpen(st)
		st.in.Open = false
		st.ownLast()
		e.recent = append(e.recent, st)
		e.recentEnd = minTime(e.recentEnd, st.in.End)
		if st.announced {
			e.emit(Resolved, st, nil)
		}
	}
}

// finalizeOld finalises the closed incidents that can no longer reopen.
func (e *Engine) finalizeOld() {
	keep := e.recent[:0]
	e.recentEnd = noEnd
	for _, st := range e.recent {
		if e.now.Sub(st.in.End) > e.cfg.Recur {
			e.finalize(st)
			continue
		}
		keep = append(keep, st)
		e.recentEnd = minTime(e.recentEnd, st.in.End)
	}
	clear(e.recent[len(keep):])
	e.recent = keep
}

// endQueue is a min-heap of incidents by the End they had when queued.
type endQueue []*state

func (q endQueue) Len() int           { return len(q) }
func (q endQueue) Less(i, j int) bool { return q[i].queuedEnd.Before(q[j].queuedEnd) }
func (q endQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *endQueue) Push(x any)        { *q = append(*q, x.(*state)) }
func (q *endQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return x
}

// noEnd is later than any record's time: the recentEnd of no incidents.
var noEnd = time.Unix(1<<60, 0)

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
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
	st.flushCounts()
	in := &st.in
	in.VHosts = st.vhosts.top(5)
	in.Requests = st.requests.top(5)
	in.Scripts = st.scripts.top(5)
	in.Clients = int64(st.clients.len())
	in.Sources = slices.Clone(st.sources)
	in.HTTPStatus = slices.Sorted(slices.Values(st.statuses))
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
	if e.cfg.OnEvent == nil {
		return
	}
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
	in := &st.in
	type candidate struct {
		id        string
		r         *rules.Rule
		explained int64 // records of this incident a cause accounts for
		rank      int   // cause 2, symptom 1, context 0
	}
	score := func(id string) candidate {
		c := candidate{id: id, r: st.roles[id]}
		switch c.r.Role {
		case "cause":
			c.rank = 2
			for other, n := range in.CountsByRule {
				if c.r.ExplainsRule(other) {
					c.explained += n
				}
			}
		case "symptom":
			c.rank = 1
		}
		return c
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
		case st.first[a.id] != st.first[b.id]:
			return st.first[a.id] < st.first[b.id]
		}
		return a.id < b.id
	}
	var best candidate
	for id := range in.CountsByRule {
		if c := score(id); best.r == nil || better(c, best) {
			best = c
		}
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
	for _, id := range in.RuleIDs() {
		if r := st.roles[id]; r != root && r.Role == "symptom" {
			in.Diagnostics = appendUnique(in.Diagnostics, r.Diagnostics, 8)
			break
		}
	}
}

func appendUnique(dst, src []string, limit int) []string {
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

func incidentID(in *Incident) string {
	h := fnv.New32a()
	h.Write([]byte(in.Group + "\x00" + in.Subject))
	return fmt.Sprintf("%s-%06x", in.Start.UTC().Format("20060102T150405"), h.Sum32()&0xffffff)
}

func clientIP(c string) string {
	// Apache writes ip:port, nginx the address alone; [v6]:port too.
	if strings.HasPrefix(c, "[") {
		if i := strings.IndexByte(c, ']'); i > 0 {
			return c[1:i]
		}
	}
	if strings.Count(c, ":") == 1 {
		return c[:strings.IndexByte(c, ':')]
	}
	return c
}
