// Package parser turns the bytes of nginx, Apache httpd and php-fpm error
// logs into entries: one per logical record, with its time, level, process,
// message and the context fields each server appends.
//
// A Parser is fed one physical line at a time and hands back a record once
// it knows the record is complete (the next record started, or Flush was
// called). Lines without a timestamp (PHP stack traces inside FastCGI
// stderr, slowlog frames) are folded into the record before them. The
// parser never drops a line silently: what it cannot place is returned as
// an unparsed entry and counted.
package parser

import (
	"strconv"
	"strings"
	"time"
)

// Server is the kind of server that wrote a record.
type Server uint8

// Servers.
const (
	ServerUnknown Server = iota
	Nginx
	Apache
	FPM
)

var serverNames = [...]string{"unknown", "nginx", "apache", "php-fpm"}

func (s Server) String() string {
	if int(s) < len(serverNames) {
		return serverNames[s]
	}
	return "server(" + strconv.Itoa(int(s)) + ")"
}

// ParseServer reads a server name as written in rule files and flags:
// nginx, apache (or httpd), php-fpm (or fpm).
func ParseServer(s string) (Server, bool) {
	switch strings.ToLower(s) {
	case "nginx":
		return Nginx, true
	case "apache", "httpd", "apache2":
		return Apache, true
	case "php-fpm", "fpm", "phpfpm":
		return FPM, true
	}
	return ServerUnknown, false
}

// Format is a log line layout.
type Format uint8

// Formats. FormatAuto asks the parser to detect the format from the first
// lines it recognises.
const (
	FormatAuto Format = iota
	FormatNginx
	FormatApache24
	FormatApache22
	FormatFPM
	FormatFPMSlow
)

var formatNames = [...]string{"auto", "nginx", "apache24", "apache22", "fpm", "fpm-slow"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "format(" + strconv.Itoa(int(f)) + ")"
}

// Server returns the server that writes logs in format f.
func (f Format) Server() Server {
	switch f {
	case FormatNginx:
		return Nginx
	case FormatApache22, FormatApache24:
		return Apache
	case FormatFPM, FormatFPMSlow:
		return FPM
	}
	return ServerUnknown
}

// ParseFormat reads a format name as given to --log-format.
func ParseFormat(s string) (Format, bool) {
	switch strings.ToLower(s) {
	case "", "auto":
		return FormatAuto, true
	case "nginx":
		return FormatNginx, true
	case "apache", "apache24", "apache2.4", "httpd":
		return FormatApache24, true
	case "apache22", "apache2.2":
		return FormatApache22, true
	case "fpm", "php-fpm":
		return FormatFPM, true
	case "fpm-slow", "slowlog", "php-fpm-slow":
		return FormatFPMSlow, true
	}
	return FormatAuto, false
}

// FormatNames lists the names ParseFormat accepts, one per format.
func FormatNames() []string { return formatNames[:] }

// Level is a record's severity as the server wrote it, mapped onto one
// scale for all three servers (php-fpm WARNING is Warn, ALERT is Alert;
// Apache trace1-8 are Debug).
type Level uint8

// Levels, least severe first.
const (
	LevelNone Level = iota
	LevelDebug
	LevelInfo
	LevelNotice
	LevelWarn
	LevelError
	LevelCrit
	LevelAlert
	LevelEmerg
)

var levelNames = [...]string{"none", "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel reads a level name in any of the servers' spellings.
func ParseLevel(s string) (Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return LevelDebug, true
	case "info":
		return LevelInfo, true
	case "notice":
		return LevelNotice, true
	case "warn", "warning":
		return LevelWarn, true
	case "error", "err":
		return LevelError, true
	case "crit", "critical":
		return LevelCrit, true
	case "alert":
		return LevelAlert, true
	case "emerg", "emergency":
		return LevelEmerg, true
	}
	if strings.HasPrefix(s, "trace") {
		return LevelDebug, true
	}
	return LevelNone, false
}

// Entry is one logical log record. String fields are substrings of Raw.
//
// Records read by Scan (or from a LineReader) do not own their text: Raw
// lies in the block of input it was read into, a few dozen kilobytes
// shared with the records around it, so parsing costs no allocation per
// record. The strings are immutable and stay valid (unless the blocks
// were lent through Options.Block, whose owner says for how long), but
// any of them kept keeps its whole block alive. Code that keeps an entry's strings beyond
// the record (samples, tables of values, templates) keeps a copy
// (strings.Clone) of what it keeps, so that memory follows what is kept
// and not the input. Records fed one line at a time with Feed own their
// text.
type Entry struct {
	File   string // where the record came from, as named by the caller
	Offset int64  // byte offset of the record's first line in the file
	Line   int    // 1-based number of the record's first line
	Lines  int    // physical lines in the record (more than 1 when folded)

	Format Format
	Server Server
	Time   time.Time // zero when the record carries no time (unparsed)
	Level  Level

	PID  int64
	TID  int64 // nginx thread id, Apache tid
	Conn int64 // nginx connection serial (*N); 0 when absent

	// Message is the server's message: for nginx without the *N and the
	// context fields; for Apache after the [client] part and without the
	// referer; for php-fpm after the level and [pool] prefix.
	Message string

	// Errno and ErrText come from "(111: Connection refused)" (nginx),
	// "(111)Connection refused: " (Apache) or ": Connection refused (111)"
	// (php-fpm). Status keeps Apache's raw status ("70007", "EAI 2").
	Errno   int
	ErrText string
	Status  string

	// nginx context.
	Action     string // the "while ..." part
	Client     string // also Apache's [client ip:port] / [remote ip:port]
	VHost      string // nginx "server:"; the first server_name or listen address
	Request    string
	Subrequest string
	Upstream   string // as written: scheme://peer/uri
	Host       string
	Referrer   string // nginx "referrer", Apache ", referer: "

	// Apache.
	Module string // proxy, proxy_http, core ...
	AHCode string // "AH00957"; empty for messages without a code

	// php-fpm.
	Pool  string
	Child int64 // child pid in "child N" messages and slowlog headers

	// Unparsed is set when no known format matched the line; Message then
	// holds the whole line.
	Unparsed bool
	// Cut is set when a line of the record was longer than the reader's
	// cap and its tail was dropped.
	Cut bool

	Raw string // the record's text as read, lines joined by "\n"
}

// UpstreamPeer returns the peer part of the nginx upstream field: the
// scheme, URI and the ":" nginx appends to unix socket peers are removed,
// so "fastcgi://unix:/run/php.sock:" and "fastcgi://unix:/run/php.sock"
// both give "unix:/run/php.sock", and "http://127.0.0.1:8080/v1" gives
// "127.0.0.1:8080". For a group ("http://backend/x") it is the group name.
func (e *Entry) UpstreamPeer() string {
	return UpstreamPeer(e.Upstream)
}

// UpstreamPeer is Entry.UpstreamPeer for a bare upstream value.
func UpstreamPeer(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if rest, ok := strings.CutPrefix(u, "unix:"); ok {
		// unix:/path/to.sock[:][/uri] - the path ends at ".sock", at the
		// colon nginx appends, or at the end.
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			return u[:len("unix:")+i]
		}
		return u
	}
	if strings.HasPrefix(u, "[") {
		if i := strings.IndexByte(u, ']'); i >= 0 {
			j := i + 1
			for j < len(u) && u[j] != '/' {
				j++
			}
			return u[:j]
		}
	}
	if i := strings.IndexByte(u, '/'); i >= 0 {
		u = u[:i]
	}
	return u
}

// Field returns a named field as text, for rule subjects and templates.
// Names are the lower-case JSON names: file, format, server, level, pid,
// tid, conn, message, errno, errtext, status, action, client, vhost,
// request, subrequest, upstream, upstream_peer, host, referrer, module,
// ahcode, pool, child. The second result is false for an unknown name.
func (e *Entry) Field(name string) (string, bool) {
	itoa := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	switch name {
	case "file":
		return e.File, true
	case "format":
		return e.Format.String(), true
	case "server":
		return e.Server.String(), true
	case "level":
		return e.Level.String(), true
	case "pid":
		return itoa(e.PID), true
	case "tid":
		return itoa(e.TID), true
	case "conn":
		return itoa(e.Conn), true
	case "message":
		return e.Message, true
	case "errno":
		return itoa(int64(e.Errno)), true
	case "errtext":
		return e.ErrText, true
	case "status":
		return e.Status, true
	case "action":
		return e.Action, true
	case "client":
		return e.Client, true
	case "vhost":
		return e.VHost, true
	case "request":
		return e.Request, true
	case "subrequest":
		return e.Subrequest, true
	case "upstream":
		return e.Upstream, true
	case "upstream_peer":
		return e.UpstreamPeer(), true
	case "host":
		return e.Host, true
	case "referrer":
		return e.Referrer, true
	case "module":
		return e.Module, true
	case "ahcode":
		return e.AHCode, true
	case "pool":
		return e.Pool, true
	case "child":
		return itoa(e.Child), true
	}
	return "", false
}

// FieldNames lists the names Field knows.
var FieldNames = []string{"file", "format", "server", "level", "pid", "tid", "conn",
	"message", "errno", "errtext", "status", "action", "client", "vhost", "request",
	"subrequest", "upstream", "upstream_peer", "host", "referrer", "module", "ahcode",
	"pool", "child"}
