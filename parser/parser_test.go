package parser

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func parseAll(t testing.TB, text string, opt Options) ([]Entry, Stats) {
	t.Helper()
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	var out []Entry
	st, err := Scan(strings.NewReader(text), opt, func(e *Entry) { out = append(out, *e) })
	if err != nil {
		t.Fatal(err)
	}
	return out, st
}

var ignorePosition = cmpopts.IgnoreFields(Entry{}, "Raw", "File", "Offset", "Line", "Lines")

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.999999", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseRecords(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Entry
	}{
		{
			name: "nginx full context with referrer",
			line: `2024/01/15 10:23:51 [error] 2231#2231: *5133 connect() failed (113: No route to host) while connecting to upstream, client: 203.0.113.8, server: api.example.com, request: "POST /v1/checkout HTTP/2.0", upstream: "http://10.0.3.22:8080/v1/checkout", host: "api.example.com", referrer: "https://shop.example.com/cart"`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-15T10:23:51"), Level: LevelError, PID: 2231, TID: 2231, Conn: 5133,
				Message: "connect() failed (113: No route to host) while connecting to upstream", Errno: 113, ErrText: "No route to host",
				Action: "connecting to upstream", Client: "203.0.113.8", VHost: "api.example.com", Request: "POST /v1/checkout HTTP/2.0",
				Upstream: "http://10.0.3.22:8080/v1/checkout", Host: "api.example.com", Referrer: "https://shop.example.com/cart"},
		},
		{
			name: "nginx unix socket upstream with trailing colon, tid 0, crit",
			line: `2024/01/15 10:23:46 [crit] 912#0: *77 connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 198.51.100.23, server: blog.example.org, request: "POST /wp-admin/admin-ajax.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "blog.example.org"`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-15T10:23:46"), Level: LevelCrit, PID: 912, Conn: 77,
				Message: "connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream", Errno: 2, ErrText: "No such file or directory",
				Action: "connecting to upstream", Client: "198.51.100.23", VHost: "blog.example.org", Request: "POST /wp-admin/admin-ajax.php HTTP/1.1",
				Upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", Host: "blog.example.org"},
		},
		{
			name: "nginx no connection id, no context",
			line: `2024/01/15 10:23:47 [crit] 31337#31337: accept4() failed (24: Too many open files)`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-15T10:23:47"), Level: LevelCrit, PID: 31337, TID: 31337,
				Message: "accept4() failed (24: Too many open files)", Errno: 24, ErrText: "Too many open files"},
		},
		{
			name: "nginx server _ and absolute-URI request, musl errno text, timeout without colon",
			line: `2024/01/15 11:00:00 [error] 7#7: *8123 upstream timed out (110: Operation timed out) while reading response header from upstream, client: 10.1.2.3, server: _, request: "GET http://example.com/x?y=1 HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock", host: "example.com"`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-15T11:00:00"), Level: LevelError, PID: 7, TID: 7, Conn: 8123,
				Message: "upstream timed out (110: Operation timed out) while reading response header from upstream", Errno: 110, ErrText: "Operation timed out",
				Action: "reading response header from upstream", Client: "10.1.2.3", VHost: "_", Request: "GET http://example.com/x?y=1 HTTP/1.1",
				Upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock", Host: "example.com"},
		},
		{
			name: "nginx subrequest",
			line: `2024/01/15 12:00:00 [error] 5#5: *9 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: app, request: "GET /private HTTP/1.1", subrequest: "/auth", upstream: "http://127.0.0.1:9091/verify", host: "app"`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-15T12:00:00"), Level: LevelError, PID: 5, TID: 5, Conn: 9,
				Message: "connect() failed (111: Connection refused) while connecting to upstream", Errno: 111, ErrText: "Connection refused",
				Action: "connecting to upstream", Client: "10.0.0.1", VHost: "app", Request: "GET /private HTTP/1.1", Subrequest: "/auth",
				Upstream: "http://127.0.0.1:9091/verify", Host: "app"},
		},
		{
			name: "nginx listen address as server, no request",
			line: `2024/01/15 22:01:10 [info] 913#913: *18011 client timed out (110: Connection timed out) while reading client request headers, client: 198.51.100.80, server: 0.0.0.0:443`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-15T22:01:10"), Level: LevelInfo, PID: 913, TID: 913, Conn: 18011,
				Message: "client timed out (110: Connection timed out) while reading client request headers", Errno: 110, ErrText: "Connection timed out",
				Action: "reading client request headers", Client: "198.51.100.80", VHost: "0.0.0.0:443"},
		},
		{
			name: "nginx resolver socket error",
			line: `2024/01/15 19:06:00 [error] 30#30: send() failed (111: Connection refused) while resolving, resolver: 127.0.0.11:53`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-15T19:06:00"), Level: LevelError, PID: 30, TID: 30,
				Message: "send() failed (111: Connection refused) while resolving", Errno: 111, ErrText: "Connection refused",
				Action: "resolving", Upstream: "127.0.0.11:53"},
		},
		{
			name: "nginx stream module",
			line: `2024/01/16 05:00:00 [error] 912#912: *21001 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.8, server: 0.0.0.0:3306, upstream: "10.0.9.9:3306", bytes from/to client:0/0, bytes from/to upstream:0/0`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-16T05:00:00"), Level: LevelError, PID: 912, TID: 912, Conn: 21001,
				Message: "connect() failed (111: Connection refused) while connecting to upstream", Errno: 111, ErrText: "Connection refused",
				Action: "connecting to upstream", Client: "10.0.0.8", VHost: "0.0.0.0:3306", Upstream: "10.0.9.9:3306"},
		},
		{
			name: "nginx stream module, udp",
			line: `2024/01/16 05:00:01 [error] 912#912: *21002 recv() failed (111: Connection refused) while proxying connection, udp client: 10.0.0.9, server: 0.0.0.0:53, upstream: "10.0.9.10:53", bytes from/to client:40/0, bytes from/to upstream:40/0`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-16T05:00:01"), Level: LevelError, PID: 912, TID: 912, Conn: 21002,
				Message: "recv() failed (111: Connection refused) while proxying connection", Errno: 111, ErrText: "Connection refused",
				Action: "proxying connection", Client: "10.0.0.9", VHost: "0.0.0.0:53", Upstream: "10.0.9.10:53"},
		},
		{
			name: "nginx request that quotes a fake context",
			line: `2024/01/15 10:00:00 [error] 1#1: *2 open() "/srv/x" failed (2: No such file or directory), client: 192.0.2.1, server: s, request: "GET /a, client: 6.6.6.6, server: evil HTTP/1.1", host: "s"`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2024-01-15T10:00:00"), Level: LevelError, PID: 1, TID: 1, Conn: 2,
				Message: `open() "/srv/x" failed (2: No such file or directory)`, Errno: 2, ErrText: "No such file or directory",
				Client: "192.0.2.1", VHost: "s", Request: "GET /a, client: 6.6.6.6, server: evil HTTP/1.1", Host: "s"},
		},
		{
			name: "nginx signal, old wording without sender",
			line: `2016/01/16 02:00:00 [notice] 911#0: signal 1 (SIGHUP) received, reconfiguring`,
			want: Entry{Format: FormatNginx, Server: Nginx, Time: utc("2016-01-16T02:00:00"), Level: LevelNotice, PID: 911,
				Message: "signal 1 (SIGHUP) received, reconfiguring"},
		},
		{
			name: "apache 2.4 proxy error with status, threaded, no client",
			line: `[Sat Nov 21 19:46:31.123456 2026] [proxy:error] [pid 4101:tid 140027863615232] (111)Connection refused: AH00957: http: attempt to connect to 127.0.0.1:18421 (127.0.0.1:18421) failed`,
			want: Entry{Format: FormatApache24, Server: Apache, Time: utc("2026-11-21T19:46:31.123456"), Level: LevelError, PID: 4101, TID: 140027863615232,
				Module: "proxy", Status: "111", Errno: 111, ErrText: "Connection refused", AHCode: "AH00957",
				Message: "AH00957: http: attempt to connect to 127.0.0.1:18421 (127.0.0.1:18421) failed"},
		},
		{
			name: "apache 2.4 status before client, referer",
			line: `[Mon Jan 15 11:00:00.812345 2024] [proxy_http:error] [pid 4101:tid 140027863615232] (70007)The timeout specified has expired: [client 203.0.113.50:50122] AH01102: error reading status line from remote server 127.0.0.1:8000, referer: https://admin.example.com/reports`,
			want: Entry{Format: FormatApache24, Server: Apache, Time: utc("2024-01-15T11:00:00.812345"), Level: LevelError, PID: 4101, TID: 140027863615232,
				Module: "proxy_http", Status: "70007", Errno: 70007, ErrText: "The timeout specified has expired", Client: "203.0.113.50:50122",
				AHCode: "AH01102", Message: "AH01102: error reading status line from remote server 127.0.0.1:8000", Referrer: "https://admin.example.com/reports"},
		},
		{
			name: "apache 2.4 prefork pid only, info",
			line: `[Mon Jan 15 10:24:02.004512 2024] [core:info] [pid 2211] [client 198.51.100.9:51514] AH00128: File does not exist: /var/www/html/favicon.ico`,
			want: Entry{Format: FormatApache24, Server: Apache, Time: utc("2024-01-15T10:24:02.004512"), Level: LevelInfo, PID: 2211,
				Module: "core", Client: "198.51.100.9:51514", AHCode: "AH00128", Message: "AH00128: File does not exist: /var/www/html/favicon.ico"},
		},
		{
			name: "apache 2.4 EAI status",
			line: `[Mon Jan 15 10:30:00.500000 2024] [proxy:error] [pid 4101:tid 1] (EAI 2)Name or service not known: AH00547: Could not resolve host name app -- ignoring!`,
			want: Entry{Format: FormatApache24, Server: Apache, Time: utc("2024-01-15T10:30:00.5"), Level: LevelError, PID: 4101, TID: 1,
				Module: "proxy", Status: "EAI 2", ErrText: "Name or service not known", AHCode: "AH00547",
				Message: "AH00547: Could not resolve host name app -- ignoring!"},
		},
		{
			name: "apache 2.4 debug source location and remote",
			line: `[Mon Jan 15 10:30:00.000001 2024] [proxy:debug] [pid 4101:tid 1] proxy_util.c(2573): [remote 10.0.0.2:8080] AH00947: connected /x to 10.0.0.2:8080`,
			want: Entry{Format: FormatApache24, Server: Apache, Time: utc("2024-01-15T10:30:00.000001"), Level: LevelDebug, PID: 4101, TID: 1,
				Module: "proxy", Client: "10.0.0.2:8080", AHCode: "AH00947", Message: "AH00947: connected /x to 10.0.0.2:8080"},
		},
		{
			name: "apache 2.4 trace level, empty module, space-padded day",
			line: `[Mon Jan  5 10:30:00.000001 2024] [:trace3] [pid 9] something happened`,
			want: Entry{Format: FormatApache24, Server: Apache, Time: utc("2024-01-05T10:30:00.000001"), Level: LevelDebug, PID: 9,
				Message: "something happened"},
		},
		{
			name: "apache 2.2 client before status",
			line: `[Thu Dec 27 12:34:38 2012] [error] [client 96.47.224.42] (70007)The timeout specified has expired: proxy: error reading status line from remote server localhost`,
			want: Entry{Format: FormatApache22, Server: Apache, Time: utc("2012-12-27T12:34:38"), Level: LevelError, Client: "96.47.224.42",
				Status: "70007", Errno: 70007, ErrText: "The timeout specified has expired", Message: "proxy: error reading status line from remote server localhost"},
		},
		{
			name: "apache 2.2 status without client",
			line: `[Wed May 28 17:00:35 2014] [error] (111)Connection refused: proxy: HTTP: attempt to connect to 127.1.244.129:8080 (127.1.244.129) failed`,
			want: Entry{Format: FormatApache22, Server: Apache, Time: utc("2014-05-28T17:00:35"), Level: LevelError,
				Status: "111", Errno: 111, ErrText: "Connection refused", Message: "proxy: HTTP: attempt to connect to 127.1.244.129:8080 (127.1.244.129) failed"},
		},
		{
			name: "php-fpm pool warning",
			line: `[21-Nov-2026 19:26:09] WARNING: [pool www] server reached pm.max_children setting (2), consider raising it`,
			want: Entry{Format: FormatFPM, Server: FPM, Time: utc("2026-11-21T19:26:09"), Level: LevelWarn, Pool: "www",
				Message: "server reached pm.max_children setting (2), consider raising it"},
		},
		{
			name: "php-fpm debug format",
			line: `[15-Jan-2024 10:23:45.482113] WARNING: pid 812, fpm_pctl_perform_idle_server_maintenance(), line 383: [pool www] server reached pm.max_children setting (5), consider raising it`,
			want: Entry{Format: FormatFPM, Server: FPM, Time: utc("2024-01-15T10:23:45.482113"), Level: LevelWarn, PID: 812, Pool: "www",
				Message: "server reached pm.max_children setting (5), consider raising it"},
		},
		{
			name: "php-fpm syserror errno suffix",
			line: `[15-Jan-2024 06:00:01] ERROR: unable to bind listening socket for address '/run/php/php8.2-fpm.sock': No such file or directory (2)`,
			want: Entry{Format: FormatFPM, Server: FPM, Time: utc("2024-01-15T06:00:01"), Level: LevelError, Errno: 2, ErrText: "No such file or directory",
				Message: "unable to bind listening socket for address '/run/php/php8.2-fpm.sock': No such file or directory (2)"},
		},
		{
			name: "php-fpm child exit",
			line: `[21-Nov-2026 19:27:23] WARNING: [pool www] child 24168 exited on signal 15 (SIGTERM) after 80.062813 seconds from start`,
			want: Entry{Format: FormatFPM, Server: FPM, Time: utc("2026-11-21T19:27:23"), Level: LevelWarn, Pool: "www", Child: 24168,
				Message: "child 24168 exited on signal 15 (SIGTERM) after 80.062813 seconds from start"},
		},
		{
			name: "php-fpm slowlog record",
			line: "[21-Nov-2026 19:26:08]  [pool www] pid 24168\nscript_filename = /srv/www/slow.php\n[0x00007f9ac9413140] usleep() /srv/www/slow.php:8\n",
			want: Entry{Format: FormatFPMSlow, Server: FPM, Time: utc("2026-11-21T19:26:08"), Pool: "www", Child: 24168,
				Message: "script_filename = /srv/www/slow.php\n[0x00007f9ac9413140] usleep() /srv/www/slow.php:8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := parseAll(t, tt.line, Options{})
			if len(got) != 1 {
				t.Fatalf("got %d records, want 1: %+v", len(got), got)
			}
			if diff := cmp.Diff(tt.want, got[0], ignorePosition); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
			if st.Unparsed != 0 || st.Parsed != 1 {
				t.Errorf("stats %+v, want 1 parsed", st)
			}
		})
	}
}

func TestNginxLevels(t *testing.T) {
	for _, name := range []string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"} {
		got, _ := parseAll(t, "2024/01/15 10:00:00 ["+name+"] 1#1: x\n", Options{})
		want, _ := ParseLevel(name)
		if len(got) != 1 || got[0].Unparsed || got[0].Level != want {
			t.Errorf("level %s: got %+v", name, got)
		}
	}
}

// nginx cuts lines at 2048 bytes with no marker; every context field is
// optional and a value may lack its closing quote.
func TestNginxCutLine(t *testing.T) {
	line := `2026/11/21 20:01:43 [error] 1#1: *21 FastCGI sent in stderr: "PHP message: ` + strings.Repeat("x", 1805) +
		`" while reading response header from upstream, client: 127.0.0.1, server: shop.test, request: "GET /fatal.php?order=42 HTTP/1.1", upstream: "fastcgi://unix:/run/php.so`
	if len(line) != 2047 {
		t.Fatalf("test line is %d bytes, want nginx's 2047", len(line))
	}
	got, _ := parseAll(t, line, Options{})
	if len(got) != 1 || got[0].Unparsed {
		t.Fatalf("cut line not parsed: %+v", got)
	}
	e := got[0]
	if e.Client != "127.0.0.1" || e.VHost != "shop.test" || e.Request != "GET /fatal.php?order=42 HTTP/1.1" || !strings.HasPrefix(e.Upstream, "fastcgi://unix:/run/php") {
		t.Errorf("context: client=%q vhost=%q request=%q upstream=%q", e.Client, e.VHost, e.Request, e.Upstream)
	}
	if e.Action != "reading response header from upstream" {
		t.Errorf("action = %q", e.Action)
	}

	// Cut inside the client address.
	atClient := line[:strings.Index(line, "127.0.0.1")+7]
	got, _ = parseAll(t, atClient, Options{})
	if len(got) != 1 || got[0].Unparsed || got[0].Client != "127.0.0" || got[0].VHost != "" {
		t.Errorf("line cut in the client: %+v", got)
	}

	// Cut inside the message: no context at all.
	short := line[:300]
	got, _ = parseAll(t, short, Options{})
	if len(got) != 1 || got[0].Unparsed || got[0].Client != "" || !strings.HasPrefix(got[0].Message, "FastCGI sent in stderr") {
		t.Errorf("line cut in the message: %+v", got)
	}
}

func TestNginxFoldsStackTrace(t *testing.T) {
	text := `2026/11/21 20:01:43 [error] 32616#32616: *21 FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function calculate_order_total() in /srv/www/fatal.php:4
Stack trace:
#0 {main}
  thrown in /srv/www/fatal.php on line 4" while reading response header from upstream, client: 127.0.0.1, server: shop.test, request: "GET /fatal.php?order=42 HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "shop.test"
2026/11/21 20:01:44 [error] 32616#32616: *23 FastCGI sent in stderr: "Primary script unknown" while reading response header from upstream, client: 127.0.0.1, server: shop.test
`
	got, st := parseAll(t, text, Options{})
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2", len(got))
	}
	e := got[0]
	if e.Lines != 4 || e.Line != 1 || got[1].Line != 5 || got[1].Offset != int64(strings.Index(text, "2026/11/21 20:01:44")) {
		t.Errorf("positions: lines=%d line=%d next line=%d next offset=%d", e.Lines, e.Line, got[1].Line, got[1].Offset)
	}
	if !strings.Contains(e.Message, "\nStack trace:\n#0 {main}\n  thrown in") || e.Host != "shop.test" || e.Action != "reading response header from upstream" {
		t.Errorf("folded record: message=%q host=%q action=%q", e.Message, e.Host, e.Action)
	}
	if st.Folded != 3 || st.Records != 2 || st.Lines != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestSlowlogRecords(t *testing.T) {
	text := "\n[21-Nov-2026 19:57:16]  [pool www] pid 29427\nscript_filename = /srv/www/slow.php\n[0x00007fdf43c13140] usleep() /srv/www/slow.php:8\n\n" +
		"[21-Nov-2026 19:57:17]  [pool api] pid 29730\nscript_filename = /srv/www/report.php\n+++ dump failed\n"
	got, st := parseAll(t, text, Options{})
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2", len(got))
	}
	if got[0].Pool != "www" || got[0].Child != 29427 || got[0].Message != "script_filename = /srv/www/slow.php\n[0x00007fdf43c13140] usleep() /srv/www/slow.php:8" {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].Pool != "api" || got[1].Message != "script_filename = /srv/www/report.php\n+++ dump failed" {
		t.Errorf("second: %+v", got[1])
	}
	if st.Unparsed != 0 || st.Blank != 1 {
		t.Errorf("stats %+v", st)
	}
}

// Lines written without a prefix: php-fpm child output, nginx and Apache
// startup messages. They become records of the file's format and take the
// time of the record before them.
func TestBareRecords(t *testing.T) {
	fpm := "[21-Nov-2026 19:26:09] NOTICE: fpm is running, pid 1\nNOTICE: PHP message: PHP Warning:  Undefined variable $x in /var/www/a.php on line 3\n#0 {main}\n"
	got, _ := parseAll(t, fpm, Options{})
	if len(got) != 2 || got[1].Unparsed || got[1].Level != LevelNotice || got[1].Message != "PHP message: PHP Warning:  Undefined variable $x in /var/www/a.php on line 3\n#0 {main}" || !got[1].Time.Equal(got[0].Time) {
		t.Errorf("fpm bare: %+v", got)
	}

	ap := "[Sat Nov 21 19:46:31.1 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache configured\n(98)Address already in use: AH00072: make_sock: could not bind to address [::]:80\nno listening sockets available, shutting down\nsomething else\n"
	got, st := parseAll(t, ap, Options{})
	if len(got) != 4 {
		t.Fatalf("apache bare: %d records", len(got))
	}
	if e := got[1]; e.Unparsed || e.AHCode != "AH00072" || e.Errno != 98 || !e.Time.Equal(got[0].Time) {
		t.Errorf("apache startup line: %+v", e)
	}
	if got[2].Unparsed || !got[3].Unparsed || st.Unparsed != 1 {
		t.Errorf("apache: no listening sockets parsed=%v, other line unparsed=%v", !got[2].Unparsed, got[3].Unparsed)
	}

	// A log that starts with startup messages is an Apache log.
	got, _ = parseAll(t, "(98)Address already in use: AH00072: make_sock: could not bind to address [::]:80\nno listening sockets available, shutting down\n", Options{})
	if len(got) != 2 || got[0].Unparsed || got[1].Unparsed || got[0].Format != FormatApache24 {
		t.Errorf("apache log starting with startup lines: %+v", got)
	}

	ng := "2024/01/16 03:00:00 [notice] 1#1: signal process started\nnginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\n"
	got, _ = parseAll(t, ng, Options{})
	if len(got) != 2 || got[1].Unparsed || got[1].Level != LevelEmerg || got[1].Errno != 98 {
		t.Errorf("nginx bare: %+v", got)
	}
}

func TestUnparsedLinesAreCountedWithSamples(t *testing.T) {
	text := "garbage one\n2024/01/15 10:00:00 [error] 1#1: real\n"
	got, st := parseAll(t, text, Options{})
	if len(got) != 2 || !got[0].Unparsed || got[0].Message != "garbage one" || got[1].Unparsed {
		t.Fatalf("records: %+v", got)
	}
	if st.Unparsed != 1 || len(st.UnparsedSamples) != 1 || st.UnparsedSamples[0] != "garbage one" {
		t.Errorf("stats %+v", st)
	}
}

func TestForcedFormat(t *testing.T) {
	text := "[21-Nov-2026 19:26:09] NOTICE: fpm is running, pid 1\n2024/01/15 10:00:00 [error] 1#1: nginx line\n"
	got, _ := parseAll(t, text, Options{Format: FormatFPM})
	// The nginx line cannot start a record in a forced php-fpm file: it
	// continues the record before it.
	if len(got) != 1 || got[0].Lines != 2 {
		t.Errorf("forced fpm: %+v", got)
	}
	got, _ = parseAll(t, text, Options{})
	if len(got) != 2 || got[1].Format != FormatNginx {
		t.Errorf("auto: %+v", got)
	}
}

func TestFoldLimitBoundsRecords(t *testing.T) {
	var b strings.Builder
	b.WriteString("2024/01/15 10:00:00 [error] 1#1: *1 FastCGI sent in stderr: \"x\n")
	for i := 0; i < 100; i++ {
		b.WriteString(strings.Repeat("y", 99) + "\n")
	}
	got, st := parseAll(t, b.String(), Options{MaxRecord: 1000})
	if len(got[0].Raw) > 1000 {
		t.Errorf("record is %d bytes, over the cap", len(got[0].Raw))
	}
	if st.Unparsed == 0 || st.Records != int64(len(got)) || st.Lines != 101 {
		t.Errorf("stats %+v", st)
	}
}

func TestTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := parseAll(t, "2026/07/01 12:00:00 [error] 1#1: x\n2026/07/01 13:59:59 [error] 1#1: y\n2026/07/02 00:00:00 [error] 1#1: z\n", Options{Location: berlin})
	want := []string{"2026-07-01T10:00:00Z", "2026-07-01T11:59:59Z", "2026-07-01T22:00:00Z"}
	for i, w := range want {
		if g := got[i].Time.UTC().Format(time.RFC3339); g != w {
			t.Errorf("record %d: %s, want %s", i, g, w)
		}
	}
}

func TestUpstreamPeer(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080/v1/orders?page=1":   "127.0.0.1:8080",
		"fastcgi://unix:/run/php/php8.2-fpm.sock:": "unix:/run/php/php8.2-fpm.sock",
		"fastcgi://unix:/run/php/php8.2-fpm.sock":  "unix:/run/php/php8.2-fpm.sock",
		"http://unix:/run/app.sock:/api/x":         "unix:/run/app.sock",
		"http://[::1]:18023/":                      "[::1]:18023",
		"fastcgi://127.0.0.1:9000":                 "127.0.0.1:9000",
		"http://api_backend/v1/orders":             "api_backend",
		"10.0.9.9:3306":                            "10.0.9.9:3306",
		"":                                         "",
	} {
		if got := UpstreamPeer(in); got != want {
			t.Errorf("UpstreamPeer(%q) = %q, want %q", in, got, want)
		}
	}
}
