package rules

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPrefilter(t *testing.T) {
	tests := []struct {
		pattern, anchor string
		want            prefilter
	}{
		{`^upstream timed out \(110: [^)]*\) while connecting to upstream`, "upstream timed out",
			prefilter{prefixes: []string{"upstream timed out (110: "}, need: ") while connecting to upstream"}},
		{`^connect\(\) to (?P<peer>unix:\S+) failed \(111: [^)]*\)`, "(111: ",
			prefilter{prefixes: []string{"connect() to unix:"}, need: " failed (111: "}},
		{`^connect\(\) to (?P<peer>unix:\S+) failed`, "connect() to",
			prefilter{prefixes: []string{"connect() to unix:"}, need: " failed"}},
		{`^(?:kevent\(\) reported that )?connect\(\) failed`, "connect() ",
			prefilter{prefixes: []string{"kevent() reported that connect() failed", "connect() failed"}}},
		{`^(?P<syscall>recv|readv)\(\) failed \((?P<code>\d+): `, ") failed (",
			prefilter{prefixes: []string{"recv() failed (", "readv() failed ("}}},
		{`^accept4?\(\) failed`, "accept",
			prefilter{prefixes: []string{"accept4() failed", "accept() failed"}}},
		{`^[ab]x`, "x", prefilter{prefixes: []string{"ax", "bx"}}},
		{`\Ano live upstreams`, "no live", prefilter{prefixes: []string{"no live upstreams"}}},
		// Anchored branch by branch: not read as anchored.
		{`^a|^bc`, "a", prefilter{}},
		// No fact about the start of the message.
		{`upstream sent too big header`, "upstream", prefilter{need: "upstream sent too big header"}},
		{`(?m)^worker process \d+ exited`, "exited", prefilter{need: "worker process "}},
		{`^(?P<count>\d+) worker_connections are not enough`, "worker_connections are not enough",
			prefilter{prefixes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, need: " worker_connections are not enough"}},
		{`^(?:x)?`, "", prefilter{}},
		{`^(?i)connect\(\) failed`, "failed", prefilter{}},
		{`^[^x]+ failed`, "failed", prefilter{need: " failed"}},
		{`^[^x]+ failed`, " failed", prefilter{}},
		{"^caf\u00e9 \\x{FFFD}xyz!", "caf", prefilter{prefixes: []string{"caf\u00e9 "}, need: "xyz!"}},
		{"^\\x{FFFD}abcd", "", prefilter{need: "abcd"}},
		// Longer than maxPrefixes prefixes: only a shorter fact.
		{`^[a-q]x`, "x", prefilter{}},
		{`^ab(?:c|d|e|f|g)(?:h|i|j|k|l)`, "ab", prefilter{prefixes: []string{"abc", "abd", "abe", "abf", "abg"}}},
		// The anchor is checked anyway; need says something more.
		{`^FastCGI sent in stderr: "Primary script unknown`, "Primary script unknown",
			prefilter{prefixes: []string{`FastCGI sent in stderr: "Primary script unknown`}}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got := newPrefilter(simplified(tt.pattern), tt.anchor)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(prefilter{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("prefilter (-want +got):\n%s", diff)
			}
		})
	}
}

// A prefilter must never reject a message its pattern matches: every
// example message of every built-in rule passes its rule's prefilter.
func TestPrefilterAdmitsExamples(t *testing.T) {
	s := builtinSet(t)
	for _, r := range s.Rules() {
		pf := newPrefilter(simplified(r.Pattern.String()), r.Anchor)
		for _, ex := range r.Examples {
			entries := parseExample(ex, 0)
			if len(entries) != 1 {
				continue
			}
			msg := entries[0].Message
			if r.Pattern.MatchString(msg) && !pf.allows(msg) {
				t.Errorf("%s: rule %s: prefilter %+v rejects %q", ex.Source, r.ID, pf, msg)
			}
		}
	}
}

// The facts hold for the message regexp accepts and fail for ones it
// does not, on patterns whose prefix sets are easy to get wrong.
func TestPrefilterAgreesWithRegexp(t *testing.T) {
	tests := []struct {
		pattern string
		msgs    []string
	}{
		{`^(?:a|)b`, []string{"b", "ab", "cb", "a", ""}},
		{`^a?b?c`, []string{"c", "ac", "bc", "abc", "ab", "xc"}},
		{`^(?:ab)+c`, []string{"abc", "ababc", "ac", "c"}},
		{`^x{2,3}y`, []string{"xxy", "xxxy", "xy"}},
		{`^(x)(?:)y\b`, []string{"xy", "xy z", "xyz"}},
		{`^\x{FFFD}a`, []string{"\xffa", "\ufffda", "a"}},
		{`^[\x{FFFD}b]a`, []string{"\xffa", "ba"}},
	}
	for _, tt := range tests {
		re := regexp.MustCompile(tt.pattern)
		pf := newPrefilter(simplified(tt.pattern), "")
		for _, m := range tt.msgs {
			if re.MatchString(m) && !pf.allows(m) {
				t.Errorf("%s: prefilter %+v rejects %q, which the pattern matches", tt.pattern, pf, m)
			}
		}
	}
}
