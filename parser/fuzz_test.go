package parser

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedFuzz adds up to n record-starting lines of the corpus files whose
// names match glob, plus the record-level cases of TestParseRecords.
func seedFuzz(f *testing.F, glob string, n int) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "corpus", "*", glob))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.SplitAfter(string(data), "\n")
		for i := 0; i < len(lines) && i < n; i++ {
			f.Add([]byte(lines[i]))
		}
		// A few records together, continuations included.
		f.Add(data[:min(len(data), 4096)])
	}
}

// checkInvariants parses data and checks what must hold for any input:
// no panic, every line accounted for, entries in order, fields within
// their record.
func checkInvariants(t *testing.T, data []byte, format Format) {
	var entries []Entry
	st, err := Scan(bytes.NewReader(data), Options{Format: format, Location: time.UTC, MaxRecord: 4096},
		func(e *Entry) { entries = append(entries, *e) })
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != int64(len(entries)) || st.Parsed+st.Unparsed != st.Records {
		t.Fatalf("stats %+v do not add up for %d entries", st, len(entries))
	}
	var lines int64
	prev := int64(-1)
	for _, e := range entries {
		lines += int64(e.Lines)
		if e.Offset <= prev {
			t.Fatalf("offset %d not after %d", e.Offset, prev)
		}
		prev = e.Offset
		if e.Unparsed {
			if e.Message != e.Raw {
				t.Fatalf("unparsed message %q differs from raw %q", e.Message, e.Raw)
			}
			continue
		}
		for _, f := range []string{e.Message, e.Client, e.VHost, e.Request, e.Upstream, e.Host, e.Referrer, e.Pool, e.Module, e.AHCode, e.ErrText} {
			if !strings.Contains(e.Raw, f) {
				t.Fatalf("field %q not in record %q", f, e.Raw)
			}
		}
		if len(e.Raw) > 4096+DefaultMaxLine {
			t.Fatalf("record of %d bytes", len(e.Raw))
		}
	}
	if lines+st.Blank != st.Lines {
		t.Fatalf("%d record lines + %d blank != %d lines", lines, st.Blank, st.Lines)
	}
	// Records that share Scan's blocks are the records Feed builds from
	// copies.
	sameAsFeed(t, data, Options{Format: format, Location: time.UTC, MaxRecord: 4096})
}

func FuzzNginx(f *testing.F) {
	seedFuzz(f, "nginx-error.log", 40)
	f.Fuzz(func(t *testing.T, data []byte) { checkInvariants(t, data, FormatNginx) })
}

func FuzzApache24(f *testing.F) {
	seedFuzz(f, "apache-error.log", 40)
	f.Add([]byte("[Wed Oct 11 14:32:52.1 2000] [proxy:error] [pid 1:tid 2] proxy_util.c(2573): (EAI 2)x: [remote 1.2.3.4:5] AH00001: m, referer: r\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkInvariants(t, data, FormatApache24) })
}

func FuzzApache22(f *testing.F) {
	f.Add([]byte("[Thu Dec 27 12:34:38 2012] [error] [client 96.47.224.42] (70007)The timeout specified has expired: proxy: error reading status line from remote server localhost\n"))
	f.Add([]byte("[Wed May 28 17:00:35 2014] [error] (111)Connection refused: proxy: HTTP: attempt to connect to 127.1.244.129:8080 (127.1.244.129) failed\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkInvariants(t, data, FormatApache22) })
}

func FuzzFPM(f *testing.F) {
	seedFuzz(f, "php-fpm.log", 40)
	f.Add([]byte("[15-Jan-2024 10:23:45.482113] WARNING: pid 812, fpm_pctl_perform_idle_server_maintenance(), line 383: [pool www] x (2)\nNOTICE: PHP message: y\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkInvariants(t, data, FormatFPM) })
}

func FuzzFPMSlow(f *testing.F) {
	seedFuzz(f, "php-fpm-slow.log", 20)
	f.Fuzz(func(t *testing.T, data []byte) { checkInvariants(t, data, FormatFPMSlow) })
}

// FuzzAuto feeds mixed input with format detection on.
func FuzzAuto(f *testing.F) {
	seedFuzz(f, "*.log", 5)
	f.Fuzz(func(t *testing.T, data []byte) { checkInvariants(t, data, FormatAuto) })
}
