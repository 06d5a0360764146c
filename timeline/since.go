package timeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Layouts ParseTime tries. Fractional seconds are accepted after the
// seconds of any of them.
var (
	zonedLayouts = []string{
		time.RFC3339,
		"2006-01-02 15:04:05Z07:00", // RFC 3339 with a space, as date(1) and SQL print it
	}
	// Times without a zone are wall-clock times in the caller's location,
	// like the servers' own timestamps.
	localLayouts = []string{
		"2006-01-02T15:04:05",
		"2006-01-02T15:04",
		"2006-01-02 15:04:05",
		"2006-01-02 15:04",
		"2006-01-02",
	}
)

// ParseTime reads the value of --since or --until:
//
//   - an RFC 3339 time, "2026-11-20T10:00:00Z" or "2026-11-20T10:00:00+01:00";
//     without a zone ("2026-11-20T10:00:00") it is a time in loc;
//   - a date, "2026-11-20", which is midnight in loc, or a date and time,
//     "2026-11-20 10:00" or "2026-11-20 10:00:00", in loc;
//   - a duration back from now: "90m", "24h", "1h30m", or with d (days) and
//     w (weeks), "7d", "2w", "1d12h"; a day is 24 hours, so "1d" across a
//     DST change is not midnight to midnight;
//   - "now", "today" (midnight today in loc) or "yesterday" (midnight the
//     day before).
//
// A nil loc means time.Local. The error quotes the input and says what is
// accepted, in one line fit for a usage message.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	in := strings.TrimSpace(s)
	switch strings.ToLower(in) {
	case "now":
		return now, nil
	case "today", "yesterday":
		y, m, d := now.In(loc).Date()
		if strings.EqualFold(in, "yesterday") {
			d--
		}
		return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
	}
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, in); err == nil {
			return t, nil
		}
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, in, loc); err == nil {
			return t, nil
		}
	}
	if d, ok := parseAgo(in); ok {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want RFC 3339, a date (2006-01-02), a duration back from now (90m, 24h, 7d) or today/yesterday", s)
}

// parseAgo reads a non-negative duration in Go's syntax extended with the
// units d (24h) and w (7d). Signs are refused: a duration here always
// counts back from now.
func parseAgo(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
			i++
		}
		j := i
		for j < len(s) && !isDigit(s[j]) && s[j] != '.' {
			j++
		}
		if i == 0 {
			return 0, false
		}
		num, unit := s[:i], s[i:j]
		s = s[j:]
		var d time.Duration
		switch unit {
		case "d", "w":
			f, err := strconv.ParseFloat(num, 64)
			day := float64(24 * time.Hour)
			if unit == "w" {
				day *= 7
			}
			if err != nil || f*day >= math.MaxInt64 {
				return 0, false
			}
			d = time.Duration(f * day)
		default:
			var err error
			if d, err = time.ParseDuration(num + unit); err != nil {
				return 0, false
			}
		}
		if total > math.MaxInt64-d {
			return 0, false
		}
		total += d
	}
	return total, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
