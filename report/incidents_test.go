package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"iter"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// at is a time on the day of the test outage, in UTC.
func at(hms string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", "2026-11-21 "+hms, time.UTC)
	if err != nil {
		panic(err)
	}
	return t
}

// fpmSaturation is php-fpm out of children behind nginx on a unix socket:
// nginx EAGAIN (502) and header timeouts (504), explained by FPM's
// max_children warning, with a slowlog stack as multi-line evidence.
func fpmSaturation() *incident.Incident {
	return &incident.Incident{
		ID:          "20261121T195715-3fa2c1",
		Title:       "php-fpm pool ran out of children (pm.max_children reached)",
		Group:       "backend",
		Subject:     "unix:/run/php/php8.2-fpm.sock",
		SubjectKind: "socket",
		Severity:    rules.SeverityCritical,
		Start:       at("19:57:15"),
		End:         at("20:01:27"),
		Count:       317,
		CountsByRule: map[string]int64{
			"nginx.upstream.connect.unix_eagain": 180,
			"nginx.upstream.timeout.read_header": 120,
			"fpm.pool.max_children_reached":      12,
			"fpm.slowlog.trace":                  5,
		},
		PeakPerMinute: 140,
		RootCause: incident.RootCause{
			RuleID: "fpm.pool.max_children_reached",
			Title:  "php-fpm pool ran out of children (pm.max_children reached)",
			Cause: "Every child of the pool was busy and FPM was not allowed to start another one, so new\n" +
				"requests wait in the listen queue until it overflows: nginx then logs\n" +
				"`(11: Resource temporarily unavailable)` on a unix socket (502) or times out on TCP (504).\n",
			Count: 12,
		},
		Remediation: []string{
			"Find what holds the children before adding more: enable `slowlog = /var/log/php8.2-fpm.slow.log` and `request_slowlog_timeout = 5s` in the pool file /etc/php/8.2/fpm/pool.d/www.conf and read the top frames.",
			"Raise `pm.max_children` in the pool file /etc/php/8.2/fpm/pool.d/www.conf; budget N ≈ RAM available for PHP / average child RSS (the Debian default is only 5).",
			"Find the slow endpoint from the request field; enable the php-fpm slowlog or check the app's APM.",
		},
		Diagnostics: []string{
			"ps --no-headers -o rss -C php-fpm8.2 | awk '{s+=$1} END {print s/NR/1024 \" MB average child RSS\"}'",
			"ss -xlp | grep php",
		},
		HTTPStatus: []int{502, 504},
		VHosts:     []incident.Count{{Value: "shop.test", Count: 290}, {Value: "api.shop.test", Count: 10}},
		Requests: []incident.Count{
			{Value: "GET /checkout HTTP/1.1", Count: 170},
			{Value: "GET /slow.php?sleep=30 HTTP/1.1", Count: 130},
		},
		Scripts: []incident.Count{{Value: "/var/www/shop/slow.php", Count: 5}},
		Pools:   []string{"www"},
		Clients: 37,
		Sources: []string{"/var/log/nginx/error.log", "/var/log/php8.2-fpm.log", "/var/log/php8.2-fpm.slow.log"},
		Samples: []incident.Sample{
			{Time: at("19:57:15"), File: "/var/log/nginx/error.log", Line: 1042, RuleID: "nginx.upstream.connect.unix_eagain",
				Text: `2026/11/21 19:57:15 [error] 29442#29442: *24 connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 127.0.0.1, server: shop.test, request: "GET /checkout HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "shop.test"`},
			{Time: at("19:57:17"), File: "/var/log/php8.2-fpm.log", Line: 88, RuleID: "fpm.pool.max_children_reached",
				Text: `[21-Nov-2026 19:57:17] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it`},
			{Time: at("19:58:02"), File: "/var/log/php8.2-fpm.slow.log", Line: 1, RuleID: "fpm.slowlog.trace",
				Text: "[21-Nov-2026 19:58:02]  [pool www] pid 4430\nscript_filename = /var/www/shop/slow.php\n[0x00007f3a5c613140] sleep() /var/www/shop/slow.php:3\n"},
			{Time: at("19:58:16"), File: "/var/log/nginx/error.log", Line: 1101, RuleID: "nginx.upstream.timeout.read_header",
				Text: `2026/11/21 19:58:16 [error] 29442#29442: *61 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.7, server: shop.test, request: "GET /slow.php?sleep=30 HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock", host: "shop.test"`},
			{Time: at("20:01:27"), File: "/var/log/nginx/error.log", Line: 1390, RuleID: "nginx.upstream.timeout.read_header",
				Text: `2026/11/21 20:01:27 [error] 29442#29442: *402 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.9, server: shop.test, request: "GET /checkout HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock", host: "shop.test"`},
		},
	}
}

// upstreamRefused is an app server on 127.0.0.1:8080 that is down.
func upstreamRefused() *incident.Incident {
	return &incident.Incident{
		ID:            "20261121T201210-08be44",
		Title:         "Upstream refused the connection (nothing listens on the port)",
		Group:         "backend",
		Subject:       "127.0.0.1:8080",
		SubjectKind:   "upstream",
		Severity:      rules.SeverityCritical,
		Start:         at("20:12:10"),
		End:           at("20:13:12"),
		Count:         44,
		CountsByRule:  map[string]int64{"nginx.upstream.connect.econnrefused": 44},
		PeakPerMinute: 41,
		RootCause: incident.RootCause{
			RuleID: "nginx.upstream.connect.econnrefused",
			Title:  "Upstream refused the connection (nothing listens on the port)",
			Cause:  "The backend address answered the TCP connection attempt with a reset: no process listens on that ip:port. The backend is stopped, crashed, still starting, or proxy_pass/fastcgi_pass names the wrong port.",
			Count:  44,
		},
		Remediation: []string{
			"Start or restart the backend: `systemctl restart php8.2-fpm` or the application's unit (`systemctl restart myapp`).",
			"Make `proxy_pass http://127.0.0.1:8080;` in /etc/nginx/sites-enabled/<site> match the backend's listen address.",
		},
		Diagnostics: []string{"ss -ltnp 'sport = :8080'", "systemctl status php8.2-fpm myapp"},
		HTTPStatus:  []int{502},
		VHosts:      []incident.Count{{Value: "api.example.com", Count: 44}},
		Requests:    []incident.Count{{Value: "POST /v1/orders HTTP/1.1", Count: 30}, {Value: "GET /v1/health HTTP/1.1", Count: 14}},
		Clients:     12,
		Sources:     []string{"/var/log/nginx/error.log"},
		Samples: []incident.Sample{
			{Time: at("20:12:10"), File: "/var/log/nginx/error.log", Line: 2001, RuleID: "nginx.upstream.connect.econnrefused",
				Text: `2026/11/21 20:12:10 [error] 29443#29443: *980 connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.5, server: api.example.com, request: "POST /v1/orders HTTP/1.1", upstream: "http://127.0.0.1:8080/v1/orders", host: "api.example.com"`},
			{Time: at("20:13:12"), File: "/var/log/nginx/error.log", Line: 2090, RuleID: "nginx.upstream.connect.econnrefused",
				Text: `2026/11/21 20:13:12 [error] 29443#29443: *1071 connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.8, server: api.example.com, request: "GET /v1/health HTTP/1.1", upstream: "http://127.0.0.1:8080/v1/health", host: "api.example.com"`},
		},
	}
}

// deployBlip is three seconds of refusals while php-fpm restarted.
func deployBlip() *incident.Incident {
	return &incident.Incident{
		ID:            "20261121T203001-5d0a17",
		Title:         "Backend unix socket refused the connection",
		Group:         "backend",
		Subject:       "unix:/run/php/php8.2-fpm.sock",
		SubjectKind:   "socket",
		Severity:      rules.SeverityWarning,
		Start:         at("20:30:01"),
		End:           at("20:30:04"),
		Count:         6,
		CountsByRule:  map[string]int64{"nginx.upstream.connect.unix_econnrefused": 6},
		PeakPerMinute: 6,
		RootCause: incident.RootCause{
			RuleID: "nginx.upstream.connect.unix_econnrefused",
			Title:  "Backend unix socket refused the connection",
			Cause:  "The socket file exists but nothing accepts on it: php-fpm is stopped or restarting.",
			Count:  6,
		},
		Remediation: []string{"Nothing to do if php-fpm came back by itself; otherwise `systemctl restart php8.2-fpm`."},
		Diagnostics: []string{"systemctl status php8.2-fpm"},
		HTTPStatus:  []int{502},
		VHosts:      []incident.Count{{Value: "shop.test", Count: 6}},
		Pools:       []string{"www"},
		Clients:     3,
		Sources:     []string{"/var/log/nginx/error.log"},
		DeployBlip:  true,
		Samples: []incident.Sample{
			{Time: at("20:30:01"), File: "/var/log/nginx/error.log", Line: 2301, RuleID: "nginx.upstream.connect.unix_econnrefused",
				Text: `2026/11/21 20:30:01 [error] 29442#29442: *1200 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop.test, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "shop.test"`},
		},
	}
}

func testCoverage() *rules.Coverage {
	c := rules.NewCoverage(5)
	c.Files = 3
	c.Parser = parser.Stats{
		Lines: 2412, Bytes: 611204, Records: 2380, Parsed: 2379, Unparsed: 1, Folded: 30, Cut: 2,
		UnparsedSamples: []string{"PHP Warning:  something without a timestamp"},
	}
	c.Matched["nginx.upstream.connect.unix_eagain"] = 180
	c.Matched["nginx.upstream.timeout.read_header"] = 120
	c.Matched["nginx.upstream.connect.econnrefused"] = 44
	c.Matched["fpm.pool.max_children_reached"] = 12
	c.Matched["nginx.upstream.connect.unix_econnrefused"] = 6
	c.Matched["fpm.slowlog.trace"] = 5
	c.Unmatched = 2013
	c.UnmatchedSevere = 43
	c.UnmatchedSamples = []string{
		`2026/11/21 20:05:40 [error] 29442#29442: *733 upstream sent too big header while reading response header from upstream, client: 10.0.0.7, server: shop.test`,
	}
	return c
}

func testUnknown() []incident.Template {
	return []incident.Template{
		{
			Server: "nginx", Level: "error", Count: 41, First: at("20:05:40"), Last: at("20:21:03"),
			Pattern: "<*> upstream sent too big header while reading response header from upstream, client: <*>, server: <*>",
			Sample:  `2026/11/21 20:05:40 [error] 29442#29442: *733 upstream sent too big header while reading response header from upstream, client: 10.0.0.7, server: shop.test`,
		},
		{
			Server: "php-fpm", Level: "WARNING", Count: 2, First: at("19:40:00"), Last: at("19:52:00"),
			Pattern: "[pool <*>] child <*> said into stderr: <*>",
			Sample:  "[21-Nov-2026 19:40:00] WARNING: [pool www] child 4431 said into stderr: \"NOTICE: PHP message: cache miss\"",
		},
	}
}

func testAnalysis() *Analysis {
	return &Analysis{
		Host:      "web1.example.com",
		Generated: at("21:00:00"),
		Since:     at("19:00:00"),
		Until:     at("21:00:00"),
		Inputs:    []string{"/var/log/nginx/error.log", "/var/log/php8.2-fpm.log", "/var/log/php8.2-fpm.slow.log"},
		Incidents: List{fpmSaturation(), upstreamRefused(), deployBlip()},
		Hidden:    1,
		Coverage:  testCoverage(),
		Unknown:   testUnknown(),
	}
}

func emptyAnalysis() *Analysis {
	c := rules.NewCoverage(5)
	c.Files = 1
	c.Parser = parser.Stats{Lines: 120, Records: 120, Parsed: 120}
	c.Unmatched = 120
	return &Analysis{
		Host:      "web1.example.com",
		Generated: at("21:00:00"),
		Inputs:    []string{"/var/log/nginx/error.log"},
		Coverage:  c,
	}
}

type format struct {
	name   string
	render func(w *bytes.Buffer, a *Analysis) error
}

var formats = []format{
	{"table", func(w *bytes.Buffer, a *Analysis) error { return Table(w, a, Style{}) }},
	{"table-color", func(w *bytes.Buffer, a *Analysis) error { return Table(w, a, Style{Color: true}) }},
	{"text", func(w *bytes.Buffer, a *Analysis) error { return Text(w, a) }},
	{"markdown", func(w *bytes.Buffer, a *Analysis) error { return Markdown(w, a) }},
	{"json", func(w *bytes.Buffer, a *Analysis) error { return JSON(w, a) }},
}

func render(t *testing.T, f format, a *Analysis) string {
	t.Helper()
	var b bytes.Buffer
	if err := f.render(&b, a); err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	return b.String()
}

func TestIncidentsGolden(t *testing.T) {
	analyses := []struct {
		name string
		a    func() *Analysis
	}{
		{"incidents", testAnalysis},
		{"empty", emptyAnalysis},
	}
	for _, an := range analyses {
		for _, f := range formats {
			name := an.name + "_" + f.name
			t.Run(name, func(t *testing.T) {
				golden(t, name, render(t, f, an.a()))
			})
		}
	}
}

// golden compares got with testdata/golden/NAME.golden, or writes it
// there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// hostileAnalysis puts terminal escapes, markdown syntax and HTML in
// every field that comes from a log.
func hostileAnalysis() *Analysis {
	a := testAnalysis()
	in := a.Incidents.(List)[0]
	in.Subject = "unix:/run/evil\x1b]0;t\x07.sock | `x`\nfake"
	in.VHosts = []incident.Count{{Value: "shop.test\r\x1b[2Jowned | col", Count: 3}}
	in.Requests = []incident.Count{{Value: "GET /\x1b[31mred``` HTTP/1.1", Count: 2}}
	in.Scripts = []incident.Count{{Value: "/var/www/\u202eevil.php", Count: 1}}
	in.Pools = []string{"www\x1b[0m"}
	in.Sources = []string{"/var/log/\x1b[31mnginx/error.log"}
	in.Samples = []incident.Sample{
		{Time: in.Start, File: "/tmp/\x1b]0;t\x07", Line: 1, RuleID: "nginx.upstream.connect.unix_eagain",
			Text: "2026/11/21 19:57:15 [error] \x1b[31mALERT\x1b[0m title \x1b]0;t\x07 cr\roverwrite <script>alert(1)</script>\n```\n``` | injected | cell\n````\n# not a heading"},
		{Time: in.End, File: "/var/log/nginx/error.log", Line: 2, RuleID: "nginx.upstream.timeout.read_header",
			Text: "| a | b |\n|---|---|\n`````"},
	}
	a.Inputs = append(a.Inputs, "/tmp/\x1b[31minput|`.log")
	a.Unknown[0].Pattern = "<*> evil | pattern ``` \x1b[31m"
	a.Unknown[0].Sample = "sample \x1b]0;t\x07 ```\n``` | x"
	a.Coverage.UnmatchedSamples = []string{"cov \x1b[31m sample ```` | y\r"}
	return a
}

func TestTerminalOutputHasNoRawControlBytes(t *testing.T) {
	for _, f := range formats[:3] { // table, table-color, text
		t.Run(f.name, func(t *testing.T) {
			out := render(t, f, hostileAnalysis())
			for _, raw := range []string{"\x1b[31mALERT", "\x1b]0;t", "\x07", "\r", "\x1b[2J", "\u202e", "\x1b[31mred", "\x1b[31mnginx", "www\x1b[0m"} {
				if strings.Contains(out, raw) {
					t.Errorf("output holds raw %q", raw)
				}
			}
			for _, inert := range []string{`\x1b[31mALERT\x1b[0m`, `\x1b]0;t\x07`, `cr\roverwrite`, `\u202eevil.php`} {
				if !strings.Contains(out, inert) {
					t.Errorf("output lacks the inert form %q", inert)
				}
			}
			if f.name == "table-color" {
				return // its own colour sequences are checked above by name
			}
			for i := 0; i < len(out); i++ {
				if c := out[i]; (c < 0x20 && c != '\n') || c == 0x7f {
					t.Fatalf("control byte %#x at %d: %q", c, i, out[max(0, i-40):min(len(out), i+40)])
				}
			}
		})
	}
}

var fenceOpen = regexp.MustCompile("^(`{3,})[^`]*$")

// mdBlocks walks markdown the way a CommonMark reader finds fenced code
// blocks and returns the content of each, failing when a fence is closed
// by anything but its own fence or left open.
func mdBlocks(t *testing.T, md string) (blocks []string, outside []string) {
	t.Helper()
	var fence string
	var content []string
	for i, l := range strings.Split(md, "\n") {
		if fence == "" {
			if m := fenceOpen.FindStringSubmatch(l); m != nil {
				fence = m[1]
				content = nil
				continue
			}
			outside = append(outside, l)
			continue
		}
		trimmed := strings.TrimLeft(l, " ")
		if len(l)-len(trimmed) <= 3 && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "` ") == "" {
			if strings.TrimRight(l, " ") != fence {
				t.Errorf("line %d: fence %q closed by %q", i+1, fence, l)
			}
			blocks = append(blocks, strings.Join(content, "\n"))
			fence = ""
			continue
		}
		content = append(content, l)
	}
	if fence != "" {
		t.Errorf("fence %q never closed", fence)
	}
	return blocks, outside
}

// cells counts the cell delimiters of a table row: pipes not escaped.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func TestMarkdownLogTextCannotBreakStructure(t *testing.T) {
	md := render(t, formats[3], hostileAnalysis())
	blocks, outside := mdBlocks(t, md)
	joined := strings.Join(blocks, "\n")
	for _, want := range []string{"``` | injected | cell", "````", "`````", "# not a heading", "| a | b |", "``` | x"} {
		if !strings.Contains(joined, want) {
			t.Errorf("log text %q is not inside a code block", want)
		}
	}
	for _, l := range outside {
		if strings.Contains(l, "injected") || strings.HasPrefix(l, "# not") {
			t.Errorf("log text escaped its code block: %q", l)
		}
	}
	// Every table keeps the column count of its header.
	var header int
	for _, l := range outside {
		if !strings.HasPrefix(l, "|") {
			header = 0
			continue
		}
		if header == 0 {
			header = cells(l)
			continue
		}
		if got := cells(l); got != header {
			t.Errorf("table row has %d delimiters, header %d: %q", got, header, l)
		}
	}
	// Inside a code block "<script>" is literal text; outside it would be HTML.
	if strings.Contains(strings.Join(outside, "\n"), "<script>") {
		t.Error("raw HTML outside a code block")
	}
	for i := 0; i < len(md); i++ {
		if c := md[i]; (c < 0x20 && c != '\n') || c == 0x7f {
			t.Fatalf("control byte %#x in markdown", c)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a|b", `a\|b`},
		{"`code`", "\\`code\\`"},
		{"x\ny", `x\\ny`},
		{"<b>&amp;", `\<b\>\&amp;`},
		{"- item", `\- item`},
		{"12. item", `12\. item`},
		{"#1 *bold* _em_ [l](u) ~s~ $x$", `\#1 \*bold\* \_em\_ \[l\](u) \~s\~ \$x\$`},
		{"php8.2-fpm", "php8.2-fpm"},
		{"trailing\\", `trailing\\`},
	}
	for _, tt := range tests {
		if got := mdText(tt.in); got != tt.want {
			t.Errorf("mdText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJSONSchemaAndEmptyLists(t *testing.T) {
	a := &Analysis{
		Incidents: List{{
			ID: "20261121T195715-000001", Severity: rules.SeverityError,
			Start: at("19:57:15"), End: at("19:57:33"),
		}},
	}
	var b bytes.Buffer
	if err := JSON(&b, a); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b.String())
	}
	if doc["schema"] != "logtriage/v1" {
		t.Errorf("schema = %v", doc["schema"])
	}
	for _, k := range []string{"generated", "since", "until"} {
		if _, ok := doc[k]; ok {
			t.Errorf("zero %s written", k)
		}
	}
	isEmptyList := func(where string, m map[string]any, keys ...string) {
		for _, k := range keys {
			v, ok := m[k].([]any)
			if !ok || len(v) != 0 {
				t.Errorf("%s.%s = %#v, want []", where, k, m[k])
			}
		}
	}
	isEmptyList("document", doc, "inputs")
	cov := doc["coverage"].(map[string]any)
	isEmptyList("coverage", cov, "by_rule", "unparsed_samples", "unmatched_samples", "unknown")
	in := doc["incidents"].([]any)[0].(map[string]any)
	isEmptyList("incident", in, "rule_ids", "sources", "remediation", "diagnostics", "http_status",
		"vhosts", "requests", "scripts", "pools", "samples")
	if m, ok := in["counts_by_rule"].(map[string]any); !ok || len(m) != 0 {
		t.Errorf("counts_by_rule = %#v, want {}", in["counts_by_rule"])
	}
	if in["duration_seconds"] != 18.0 || in["start"] != "2026-11-21T19:57:15Z" || in["end"] != "2026-11-21T19:57:33Z" {
		t.Errorf("start/end/duration = %v %v %v", in["start"], in["end"], in["duration_seconds"])
	}
}

func TestJSONKeepsLogTextExactAndEscapesHTML(t *testing.T) {
	a := hostileAnalysis()
	var b bytes.Buffer
	if err := JSON(&b, a); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, raw := range []string{"<script>", "\x1b", "\x07", "\r"} {
		if strings.Contains(out, raw) {
			t.Errorf("JSON holds raw %q", raw)
		}
	}
	var doc AnalysisJSON
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Incidents[0].Samples[0].Text, a.Incidents.(List)[0].Samples[0].Text; got != want {
		t.Errorf("sample text changed:\n got %q\nwant %q", got, want)
	}
	if got, want := doc.Incidents[0].RuleIDs, a.Incidents.(List)[0].RuleIDs(); !cmp.Equal(got, want) {
		t.Errorf("rule_ids = %v, want %v", got, want)
	}
}

func TestNoIncidents(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			out := render(t, f, emptyAnalysis())
			if f.name == "json" {
				if !strings.Contains(out, `"incidents": []`) {
					t.Errorf("no empty incidents list:\n%s", out)
				}
				var doc AnalysisJSON
				if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Incidents == nil || len(doc.Incidents) != 0 {
					t.Errorf("incidents = %#v, err %v", doc.Incidents, err)
				}
				return
			}
			if !strings.Contains(out, "No incidents.") {
				t.Errorf("no \"No incidents.\":\n%s", out)
			}
			if !strings.Contains(out, "120 lines") {
				t.Errorf("does not say what was read:\n%s", out)
			}
		})
	}
	// A nil analysis renders as an empty one rather than panicking.
	for _, f := range formats {
		render(t, f, nil)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1600 * time.Millisecond, "2s"},
		{18 * time.Second, "18s"},
		{62 * time.Second, "1m02s"},
		{59*time.Minute + 59*time.Second + 700*time.Millisecond, "1h00m"},
		{2*time.Hour + 5*time.Minute + 40*time.Second, "2h05m"},
		{-time.Second, "0s"},
	}
	for _, tt := range tests {
		if got := fmtDuration(tt.d); got != tt.want {
			t.Errorf("fmtDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestTimesKeepTheirZone(t *testing.T) {
	a := testAnalysis()
	berlin := time.FixedZone("CET", 3600)
	for _, in := range a.incidents().All() {
		in.Start, in.End = in.Start.In(berlin), in.End.In(berlin)
	}
	var b bytes.Buffer
	if err := Text(&b, a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "2026-11-21 20:57:15 – 2026-11-21 21:01:27 (4m12s)") || !strings.Contains(b.String(), "in CET") {
		t.Errorf("times not in the incident's zone:\n%s", b.String())
	}
	b.Reset()
	if err := JSON(&b, a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"start": "2026-11-21T20:57:15+01:00"`) {
		t.Errorf("JSON start not RFC 3339 in the incident's zone")
	}
}

// passes is a List that counts how often it is read to the end (n) and
// how often a read stops short (peeks), as a look at the first incident
// does.
type passes struct {
	List
	n, peeks int
}

func (p *passes) All() iter.Seq2[int, *incident.Incident] {
	return func(yield func(int, *incident.Incident) bool) {
		for i, in := range p.List {
			if !yield(i, in) {
				p.peeks++
				return
			}
		}
		p.n++
	}
}

// TestWritersReadIncidentsFewTimes: a spooled list is decoded again on
// every pass, so each writer reads it a fixed, small number of times.
func TestWritersReadIncidentsFewTimes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(io.Writer, *Analysis) error
		max   int
	}{
		{"json", JSON, 1},
		{"markdown", Markdown, 2},
		{"text", Text, 3}, // widths, rows, details
		{"table", func(w io.Writer, a *Analysis) error { return Table(w, a, Style{}) }, 3},
		{"html", HTML, 3}, // counts and chart, rows, details
	} {
		a := testAnalysis()
		p := &passes{List: a.Incidents.(List)}
		a.Incidents = p
		if err := tc.write(io.Discard, a); err != nil {
			t.Fatal(err)
		}
		if p.n == 0 || p.n > tc.max {
			t.Errorf("%s read the incidents %d times, want 1 to %d", tc.name, p.n, tc.max)
		}
		// The header's zone is that of the first incident: one look at
		// it, at most, besides the passes.
		if p.peeks > 1 {
			t.Errorf("%s looked at the first incident %d times besides its passes, want at most 1", tc.name, p.peeks)
		}
	}
}

// broken is a List whose reads all stop short.
type broken struct{ List }

func (broken) Err() error { return errors.New("spool: unexpected EOF") }

// TestWritersSayWhenIncidentsStopShort: a list that could not be read
// whole makes every writer fail, not write a report that lacks incidents.
func TestWritersSayWhenIncidentsStopShort(t *testing.T) {
	for name, write := range map[string]func(io.Writer, *Analysis) error{
		"json": JSON, "markdown": Markdown, "text": Text, "html": HTML,
		"table": func(w io.Writer, a *Analysis) error { return Table(w, a, Style{}) },
	} {
		a := testAnalysis()
		a.Incidents = broken{a.Incidents.(List)}
		if err := write(io.Discard, a); err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
			t.Errorf("%s: err %v, want the list's", name, err)
		}
	}
}
