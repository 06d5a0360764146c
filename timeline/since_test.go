package timeline

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin on machines without a zone database
)

func TestParseTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	plus2 := time.FixedZone("+02", 2*3600)
	now := time.Date(2026, 11, 21, 15, 30, 0, 0, plus2) // 13:30 UTC
	// 2026-03-29 is the day Berlin moves to summer time at 02:00.
	dstNow := time.Date(2026, 3, 29, 12, 0, 0, 0, berlin)

	tests := []struct {
		in   string
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		// RFC 3339.
		{"2026-11-20T10:00:00Z", now, plus2, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{"2026-11-20T10:00:00+01:00", now, time.UTC, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)},
		{"2026-11-20T10:00:00.250Z", now, plus2, time.Date(2026, 11, 20, 10, 0, 0, 250e6, time.UTC)},
		{"2026-11-20 10:00:00-05:00", now, plus2, time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)},
		// Without a zone: in loc.
		{"2026-11-20T10:00:00", now, plus2, time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)},
		{"2026-11-20T10:00", now, time.UTC, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{"2026-11-20", now, plus2, time.Date(2026, 11, 19, 22, 0, 0, 0, time.UTC)},
		{"2026-11-20", now, time.UTC, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"2026-11-20 10:00", now, plus2, time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)},
		{"2026-11-20 10:00:30", now, plus2, time.Date(2026, 11, 20, 8, 0, 30, 0, time.UTC)},
		{"2026-11-20 10:00:30.5", now, time.UTC, time.Date(2026, 11, 20, 10, 0, 30, 5e8, time.UTC)},
		{"  2026-11-20 ", now, time.UTC, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		// Back from now.
		{"90m", now, time.UTC, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)},
		{"24h", now, time.UTC, time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC)},
		{"1h30m", now, time.UTC, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)},
		{"45s", now, time.UTC, time.Date(2026, 11, 21, 13, 29, 15, 0, time.UTC)},
		{"7d", now, time.UTC, time.Date(2026, 11, 14, 13, 30, 0, 0, time.UTC)},
		{"2w", now, time.UTC, time.Date(2026, 11, 7, 13, 30, 0, 0, time.UTC)},
		{"1d12h", now, time.UTC, time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)},
		{"1w2d3h", now, time.UTC, time.Date(2026, 11, 12, 10, 30, 0, 0, time.UTC)},
		{"1.5d", now, time.UTC, time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)},
		{"0s", now, time.UTC, now},
		// Words.
		{"now", now, time.UTC, now},
		{"today", now, plus2, time.Date(2026, 11, 21, 0, 0, 0, 0, plus2)},
		{"Today", now, time.UTC, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
		{"yesterday", now, plus2, time.Date(2026, 11, 20, 0, 0, 0, 0, plus2)},
		// Today in loc, not in now's zone: 00:30 on the 22nd in Tokyo.
		{"today", time.Date(2026, 11, 21, 15, 30, 0, 0, time.UTC), time.FixedZone("JST", 9*3600), time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)},
		{"yesterday", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), time.UTC, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		// Across the change to summer time: midnights are wall-clock
		// midnights, a day is 24 hours.
		{"today", dstNow, berlin, time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC)},
		{"yesterday", dstNow, berlin, time.Date(2026, 3, 27, 23, 0, 0, 0, time.UTC)},
		{"1d", dstNow, berlin, time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC)},
		{"2026-03-29 03:00", dstNow, berlin, time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in+"@"+tt.loc.String(), func(t *testing.T) {
			got, err := ParseTime(tt.in, tt.now, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTimeErrors(t *testing.T) {
	now := time.Date(2026, 11, 21, 15, 30, 0, 0, time.UTC)
	for _, in := range []string{
		"", "xyz", "90", "-1h", "+1h", "1x", "d", "1.2.3d", "1h-2m", "7 d",
		"2026-13-01", "2026-11-31", "2026-11-20 25:00", "2026/11/20", "20261120",
		"99999999999w", "2000000h2000000h", "tomorrow",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseTime(in, now, time.UTC)
			if err == nil {
				t.Fatalf("ParseTime(%q) succeeded", in)
			}
			want := `invalid time "` + in + `": want RFC 3339, a date (2006-01-02), a duration back from now (90m, 24h, 7d) or today/yesterday`
			if got := err.Error(); got != want || strings.Contains(got, "\n") {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestParseTimeNilLocation(t *testing.T) {
	now := time.Date(2026, 11, 21, 15, 30, 0, 0, time.UTC)
	got, err := ParseTime("2026-11-20", now, nil)
	want := time.Date(2026, 11, 20, 0, 0, 0, 0, time.Local)
	if err != nil || !got.Equal(want) {
		t.Errorf("nil location: %v, %v; want %v", got, err, want)
	}
}
