package source

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOrder(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{
			in:   []string{"error.log", "error.log.1", "error.log.10.gz", "error.log.2.gz"},
			want: []string{"error.log.10.gz", "error.log.2.gz", "error.log.1", "error.log"},
		},
		{
			in:   []string{"error.log", "error.log-20261120", "error.log-20261119.gz", "error.log-20261118.gz"},
			want: []string{"error.log-20261118.gz", "error.log-20261119.gz", "error.log-20261120", "error.log"},
		},
		{
			// Hourly dateext, and dates across a month and a year.
			in:   []string{"error.log-2026112012", "error.log-2026112009.gz", "error.log", "error.log-2025123123"},
			want: []string{"error.log-2025123123", "error.log-2026112009.gz", "error.log-2026112012", "error.log"},
		},
		{
			// Apache on RHEL, php-fpm on Debian.
			in:   []string{"/var/log/httpd/error_log", "/var/log/httpd/error_log-20261120", "/var/log/php8.2-fpm.log", "/var/log/php8.2-fpm.log.1", "/var/log/php8.2-fpm.log.2.gz"},
			want: []string{"/var/log/httpd/error_log-20261120", "/var/log/httpd/error_log", "/var/log/php8.2-fpm.log.2.gz", "/var/log/php8.2-fpm.log.1", "/var/log/php8.2-fpm.log"},
		},
		{
			// Sets keep the order of their first member; others stay put.
			in:   []string{"b/error.log.1", "a.log", "-", "b/error.log", "c/error.log.1", "b/error.log.3.gz", "-", "c/error.log.2"},
			want: []string{"b/error.log.3.gz", "b/error.log.1", "b/error.log", "a.log", "-", "c/error.log.2", "c/error.log.1", "-"},
		},
		{
			// A set without its live file, and one matched by cleaned path.
			in:   []string{"x/error.log.1", "x/error.log.2", "./y/error.log", "y/error.log.1"},
			want: []string{"x/error.log.2", "x/error.log.1", "y/error.log.1", "./y/error.log"},
		},
		{
			// Same age: input order. Leading zeros do not change the age.
			in:   []string{"error.log.2", "error.log.02.gz", "error.log.2.gz", "error.log.1"},
			want: []string{"error.log.2", "error.log.02.gz", "error.log.2.gz", "error.log.1"},
		},
		{
			// Not rotations: a compressed live file, short numbers after a
			// dash, a name that is only a suffix.
			in:   []string{"error.log.gz", "error.log-1", "www-slow.log", ".1", "error.log.old", "error.log"},
			want: []string{"error.log.gz", "error.log-1", "www-slow.log", ".1", "error.log.old", "error.log"},
		},
		{
			// Grouped dateformats (-%Y-%m-%d, -%Y%m%d-%s) and a dot date.
			in:   []string{"e.log", "e.log-2026-11-20", "e.log-2026-11-19.gz", "f.log-20261120-1763600000", "f.log-20261119-1763500000", "g.log.20261120", "g.log.20261119"},
			want: []string{"e.log-2026-11-19.gz", "e.log-2026-11-20", "e.log", "f.log-20261119-1763500000", "f.log-20261120-1763600000", "g.log.20261119", "g.log.20261120"},
		},
		{
			// Numbered files left from a change of scheme read first.
			in:   []string{"error.log", "error.log-20261120", "error.log.1"},
			want: []string{"error.log.1", "error.log-20261120", "error.log"},
		},
		{in: nil, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			got := Order(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Order (-want +got):\n%s", diff)
			}
			// Deterministic: ordering the result again changes nothing.
			if diff := cmp.Diff(got, Order(got)); diff != "" {
				t.Errorf("Order is not idempotent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultPaths(t *testing.T) {
	root := t.TempDir()
	files := map[string][]byte{
		"var/log/nginx/error.log":                    []byte("live\n"),
		"var/log/nginx/error.log.1":                  []byte("one\n"),
		"var/log/nginx/error.log.2.gz":               gz(t, "two\n"),
		"var/log/nginx/error.log.10.gz":              gz(t, "ten\n"),
		"var/log/nginx/access.log":                   nil,
		"var/log/httpd/error_log":                    nil,
		"var/log/httpd/error_log-20261120":           nil,
		"var/log/httpd/error_log-20261113.gz":        gz(t, "old\n"),
		"var/log/php8.2-fpm.log":                     nil,
		"var/log/php8.2-fpm.log.1":                   nil,
		"var/log/php7.4-fpm.log":                     nil,
		"var/log/php-fpm/error.log":                  nil,
		"var/log/php-fpm/www-slow.log-20261120":      nil,
		"var/log/php-fpm/www-slow.log":               nil,
		"var/log/php-fpm/www-error.log":              nil,
		"var/log/syslog":                             nil,
		"var/log/apache2/error.log.d/not-a-log-file": nil,
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := defaultPathsIn(root)
	want := []string{
		"var/log/nginx/error.log.10.gz",
		"var/log/nginx/error.log.2.gz",
		"var/log/nginx/error.log.1",
		"var/log/nginx/error.log",
		"var/log/httpd/error_log-20261113.gz",
		"var/log/httpd/error_log-20261120",
		"var/log/httpd/error_log",
		"var/log/php7.4-fpm.log",
		"var/log/php8.2-fpm.log.1",
		"var/log/php8.2-fpm.log",
		"var/log/php-fpm/error.log",
		"var/log/php-fpm/www-slow.log-20261120",
		"var/log/php-fpm/www-slow.log",
	}
	for i, w := range want {
		want[i] = filepath.Join(root, w)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaultPathsIn (-want +got):\n%s", diff)
	}

	// Read in that order, the nginx set comes out oldest first, gzip
	// members decompressed.
	var text strings.Builder
	for _, name := range got[:4] {
		r, err := Open(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		text.Write(b)
	}
	if got, want := text.String(), "ten\ntwo\none\nlive\n"; got != want {
		t.Errorf("nginx set read as %q, want %q", got, want)
	}

	if got := defaultPathsIn(t.TempDir()); len(got) != 0 {
		t.Errorf("empty root: %q", got)
	}
}

func TestRotations(t *testing.T) {
	tests := []struct {
		name  string
		files []string // in the directory; a trailing "/" makes a directory
		want  []string
	}{
		{
			name:  "numbered",
			files: []string{"error.log", "error.log.1", "error.log.2.gz", "error.log.10.gz", "access.log.1", "error.log.gz", "error.log.old"},
			want:  []string{"error.log.10.gz", "error.log.2.gz", "error.log.1"},
		},
		{
			name:  "dateext without the live file",
			files: []string{"error.log-20261120", "error.log-20261119.gz", "error.log-20261121.gz", "other.log-20261122"},
			want:  []string{"error.log-20261119.gz", "error.log-20261120", "error.log-20261121.gz"},
		},
		{
			name:  "being compressed",
			files: []string{"error.log", "error.log.1", "error.log.1.gz", "error.log.2.gz"},
			want:  []string{"error.log.2.gz", "error.log.1"},
		},
		{
			name:  "directories skipped",
			files: []string{"error.log", "error.log.1/", "error.log.2"},
			want:  []string{"error.log.2"},
		},
		{
			name:  "none",
			files: []string{"error.log", "error.log.gz", "error.log-1"},
			want:  []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(dir, f)
				var err error
				if strings.HasSuffix(f, "/") {
					err = os.Mkdir(p, 0o755)
				} else {
					err = os.WriteFile(p, []byte("x\n"), 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			got, err := Rotations(filepath.Join(dir, "error.log"))
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range got {
				if filepath.Dir(g) != dir {
					t.Errorf("%s is not in %s", g, dir)
				}
				got[i] = filepath.Base(g)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Rotations (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("relative path", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		for _, f := range []string{"error.log.2.gz", "error.log.1"} {
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := Rotations("error.log")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"error.log.2.gz", "error.log.1"}, got); diff != "" {
			t.Errorf("Rotations (-want +got):\n%s", diff)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		_, err := Rotations(filepath.Join(missing, "error.log"))
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("error %v does not name %s", err, missing)
		}
	})
}

func TestIsRotated(t *testing.T) {
	for name, want := range map[string]bool{
		"/var/log/nginx/error.log":             false,
		"/var/log/nginx/error.log.1":           true,
		"/var/log/nginx/error.log.2.gz":        true,
		"/var/log/nginx/error.log-20261120":    true,
		"/var/log/nginx/error.log-20261120.gz": true,
		"/var/log/nginx/error.log.gz":          false,
		"/var/log/php8.2-fpm.log":              false,
		"/var/log/httpd/error_log":             false,
	} {
		if got := IsRotated(name); got != want {
			t.Errorf("IsRotated(%q) = %v, want %v", name, got, want)
		}
	}
}
