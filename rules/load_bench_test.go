package rules

import "testing"

// BenchmarkLoad measures what every run pays before reading a line:
// building the built-in rule set.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(false); err != nil {
			b.Fatal(err)
		}
	}
}
