package parser

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStartsRecord(t *testing.T) {
	const (
		nginx = "2026/11/21 10:00:00 [error] 29442#29442: *24 connect() failed (111: Connection refused)"
		fpm   = "[21-Nov-2026 10:00:00] WARNING: [pool www] server reached pm.max_children setting (5)"
		slow  = "[21-Nov-2026 10:00:00]  [pool www] pid 1234"
	)
	for _, tc := range []struct {
		format Format
		line   string
		want   bool
	}{
		{FormatAuto, nginx, true},
		{FormatAuto, fpm, true},
		{FormatAuto, "nginx: [emerg] bind() to 0.0.0.0:80 failed", false}, // a bare header counts only in its format
		{FormatNginx, "nginx: [emerg] bind() to 0.0.0.0:80 failed", true},
		{FormatNginx, "PHP Stack trace:", false},
		{FormatNginx, "", false},
		{FormatFPM, slow, true}, // php-fpm may write its slowlog into the error log
		{FormatFPMSlow, "[0x00007f0000000001] sleep() /var/www/slow.php:3", false},
		{FormatFPMSlow, "script_filename = /var/www/slow.php", false},
	} {
		t.Run(tc.format.String()+"/"+tc.line, func(t *testing.T) {
			p := New(Options{})
			p.SetFormat(tc.format)
			if got := p.StartsRecord([]byte(tc.line)); got != tc.want {
				t.Errorf("StartsRecord = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestScanPart parses a log whole and from a line StartsRecord accepts,
// with the format set, and wants the same records from there on but for
// the numbering.
func TestScanPart(t *testing.T) {
	log := "a line of no known shape\n" +
		"2026/11/21 10:00:00 [error] 1#1: *1 first\n" +
		"nginx: [emerg] bare, takes the time before it\n" +
		"2026/11/21 10:00:01 [error] 1#1: *2 FastCGI sent in stderr\nPHP Stack trace:\nPHP   1. {main}() /var/www/a.php:0\n" +
		"nginx: [emerg] bare again\n"
	cut := strings.Index(log, "2026/11/21 10:00:01")
	var whole []Entry
	if _, err := Scan(strings.NewReader(log), Options{}, func(e *Entry) { whole = append(whole, *e) }); err != nil {
		t.Fatal(err)
	}
	p := New(Options{})
	p.SetFormat(FormatNginx)
	if !p.StartsRecord([]byte("2026/11/21 10:00:01 [error] 1#1: *2 FastCGI sent in stderr")) {
		t.Fatal("the cut line starts no record")
	}
	var part []Entry
	if _, err := p.Scan(strings.NewReader(log[cut:]), func(e *Entry) { part = append(part, *e) }); err != nil {
		t.Fatal(err)
	}
	want := whole[len(whole)-len(part):]
	for i := range part {
		part[i].Offset += int64(cut)
		part[i].Line += strings.Count(log[:cut], "\n")
	}
	if diff := cmp.Diff(want, part); diff != "" {
		t.Errorf("records of the part (-whole +part):\n%s", diff)
	}
}
