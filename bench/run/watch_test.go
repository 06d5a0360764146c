package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestStatTicks(t *testing.T) {
	// Fields 3 to 52 of a real line, with utime (14) 7 and stime (15) 3.
	rest := "S 1 812 812 0 -1 4194560 2179 0 0 0 7 3 0 0 20 0 9 0 1290650 1254969344 5860 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0"
	tests := []struct {
		line string
		want int64
		err  bool
	}{
		{line: "812 (logtriage) " + rest, want: 10},
		// The command name is the process's to choose: spaces and
		// parentheses in it must not shift the fields.
		{line: "812 (a) b (c)) " + rest, want: 10},
		{line: "812 (logtriage) S 1 812", err: true},
		{line: "812 logtriage " + rest, err: true},
		{line: "812 (logtriage) " + strings.Replace(rest, " 7 3 ", " 7 x ", 1), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.line[:min(len(tt.line), 24)], func(t *testing.T) {
			got, err := statTicks(tt.line)
			if (err != nil) != tt.err {
				t.Fatalf("statTicks error %v, want error %t", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("statTicks = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ten := []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	tests := []struct {
		v    []float64
		p    float64
		want float64
	}{
		{v: ten, p: 90, want: 9},
		{v: ten, p: 100, want: 10},
		{v: ten, p: 50, want: 5},
		{v: ten, p: 0, want: 1},
		{v: []float64{0.3}, p: 90, want: 0.3},
		{v: []float64{0.5, 0.1, 0.3}, p: 90, want: 0.5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.v, tt.p), func(t *testing.T) {
			if got := percentile(tt.v, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.v, tt.p, got, tt.want)
			}
		})
	}
}
