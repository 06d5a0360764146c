package source

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A rotated set is a live log and the files logrotate (or the server) made
// of it: error.log, error.log.1, error.log.2.gz ... (higher numbers are
// older) or, with dateext, error.log-20261120[.gz] (earlier dates are
// older). Reading a set oldest first makes its records come out in time
// order, which is what incident windows and timelines need.

// Kinds of member of a rotated set, oldest kind first. A set that mixes
// numbered and dated files changed its rotation scheme at some point; the
// numbered ones are taken as the older. The merge in package timeline
// orders records by time anyway, so this only decides the reading order.
const (
	kindNumbered = iota
	kindDated
	kindLive
)

// minDateDigits is how many digits make a suffix a date rather than a
// rotation number: logrotate's dateext writes at least %Y%m%d, and no
// rotate count reaches ten million.
const minDateDigits = 8

// rotation is what a file name says about its place in a rotated set.
type rotation struct {
	base string // the live file's name: the set's key
	kind int
	key  string // kindNumbered: the number without leading zeros; kindDated: the date's digits
}

// parseRotation splits name into the live file it was rotated from and
// its age. A name that is not a rotation is the live member of its own
// set. A ".gz" suffix only counts after a rotation suffix: error.log.gz
// is not a rotation of error.log.
func parseRotation(name string) rotation {
	s := strings.TrimSuffix(name, ".gz")
	if base, digits, ok := cutSuffix(s, '.'); ok {
		if len(digits) >= minDateDigits {
			return rotation{base: base, kind: kindDated, key: digits}
		}
		return rotation{base: base, kind: kindNumbered, key: trimZeros(digits)}
	}
	if base, digits, ok := cutDate(s); ok {
		return rotation{base: base, kind: kindDated, key: digits}
	}
	return rotation{base: name, kind: kindLive}
}

// cutSuffix splits s at its last sep when what follows is all digits and
// what precedes is a file name, not a bare directory.
func cutSuffix(s string, sep byte) (base, digits string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 || !validBase(s[:i]) || !allDigits(s[i+1:]) {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// cutDate splits a dateext suffix off s: a "-" followed by digits that may
// be grouped by "-" (dateformat -%Y%m%d, -%Y%m%d%H, -%Y-%m-%d,
// -%Y%m%d-%s), at least minDateDigits of them. It returns the digits
// alone, which compare as dates when the set uses one dateformat.
func cutDate(s string) (base, digits string, ok bool) {
	j := len(s)
	for j > 0 && (isDigit(s[j-1]) || s[j-1] == '-') {
		j--
	}
	tail := s[j:]
	if len(tail) < 2 || tail[0] != '-' || !isDigit(tail[1]) || !validBase(s[:j]) {
		return "", "", false
	}
	digits = strings.ReplaceAll(tail, "-", "")
	if len(digits) < minDateDigits {
		return "", "", false
	}
	return s[:j], digits, true
}

func validBase(b string) bool {
	return b != "" && !os.IsPathSeparator(b[len(b)-1])
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func trimZeros(d string) string {
	t := strings.TrimLeft(d, "0")
	if t == "" {
		return "0"
	}
	return t
}

// older compares two members of one set: negative when a is older.
func older(a, b rotation) int {
	if c := cmp.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	switch a.kind {
	case kindNumbered:
		// Higher numbers are older. The digits have no leading zeros, so
		// the longer is the larger.
		if c := cmp.Compare(len(b.key), len(a.key)); c != 0 {
			return c
		}
		return strings.Compare(b.key, a.key)
	case kindDated:
		return strings.Compare(a.key, b.key)
	}
	return 0
}

// Order arranges input names so that each rotated set is read oldest
// first: error.log.10.gz, error.log.2.gz, error.log.1, error.log, and
// error.log-20261119.gz, error.log-20261120, error.log. Sets come in the
// order of their first member in names; names that belong to no rotation,
// and every "-", keep their relative order. Members are matched by their
// cleaned path, so "./error.log" and "error.log.1" are one set. Equal
// names, or names of the same age (error.log.2 and error.log.2.gz), keep
// their order. Order does not touch the file system and does not change
// names.
func Order(names []string) []string {
	type member struct {
		name string
		rot  rotation
	}
	var sets [][]member
	index := make(map[string]int)
	for _, n := range names {
		if n == Stdin {
			sets = append(sets, []member{{name: n, rot: rotation{kind: kindLive}}})
			continue
		}
		r := parseRotation(n)
		key := filepath.Clean(r.base)
		i, ok := index[key]
		if !ok {
			i = len(sets)
			index[key] = i
			sets = append(sets, nil)
		}
		sets[i] = append(sets[i], member{name: n, rot: r})
	}
	out := make([]string, 0, len(names))
	for _, set := range sets {
		slices.SortStableFunc(set, func(a, b member) int { return older(a.rot, b.rot) })
		for _, m := range set {
			out = append(out, m.name)
		}
	}
	return out
}

// defaultPatterns are the error logs Debian, Ubuntu, RHEL and their
// relatives write by default, relative to the root directory.
var defaultPatterns = []string{
	"var/log/nginx/error.log*",
	"var/log/apache2/error.log*",
	"var/log/httpd/error_log*",
	"var/log/php*-fpm.log*",
	"var/log/php-fpm/error.log*",
	"var/log/php-fpm/www-slow.log*",
}

// DefaultPaths returns the standard error logs of nginx, Apache httpd and
// php-fpm that exist on this machine, rotations included, each rotated set
// in Order: /var/log/nginx/error.log*, /var/log/apache2/error.log*,
// /var/log/httpd/error_log*, /var/log/php*-fpm.log*,
// /var/log/php-fpm/error.log* and /var/log/php-fpm/www-slow.log*.
// Directories are skipped; files that cannot be read are still returned,
// so that opening them reports why.
func DefaultPaths() (found []string) {
	return defaultPathsIn(string(filepath.Separator))
}

// defaultPathsIn is DefaultPaths under root instead of "/".
func defaultPathsIn(root string) (found []string) {
	for _, p := range defaultPatterns {
		// The patterns are fixed and well formed, so Glob cannot fail.
		m, _ := filepath.Glob(filepath.Join(root, p))
		m = slices.DeleteFunc(m, func(name string) bool {
			st, err := os.Stat(name)
			return err == nil && st.IsDir()
		})
		found = append(found, Order(m)...)
	}
	return found
}

// Rotations lists the rotated files of the live log path that exist in its
// directory, oldest first, as Order arranges them: for /var/log/nginx/error.log
// that is error.log.2.gz, error.log.1, or error.log-20261119.gz,
// error.log-20261120. The live file itself is not listed, whether it
// exists or not. When a rotation exists both plain and compressed
// (error.log.1 and error.log.1.gz, as while logrotate compresses it), only
// the plain one is listed: the compressed one may be incomplete, and both
// hold the same lines. Directories are skipped. An unreadable directory is
// an error naming it.
func Rotations(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	have := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if r := parseRotation(e.Name()); r.kind != kindLive && r.base == base {
			names = append(names, e.Name())
			have[e.Name()] = true
		}
	}
	out := make([]string, 0, len(names))
	for _, n := range Order(names) {
		if plain, ok := strings.CutSuffix(n, ".gz"); ok && have[plain] {
			continue // the plain twin is listed
		}
		out = append(out, filepath.Join(dir, n))
	}
	return out, nil
}

// IsRotated reports whether name is a rotated copy of a live log
// (error.log.1, error.log.2.gz, error.log-20261120) rather than the log
// itself.
func IsRotated(name string) bool {
	return parseRotation(name).kind != kindLive
}
