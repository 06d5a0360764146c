package state

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestHelperProcess is not a test: the tests below run the test binary
// again as a second logtriage process (GO_WANT_HELPER_PROCESS=1), which
// does what its arguments say and is killed or ends when told to.
//
//	lock STATE    takes the lock, prints "locked", holds it until stdin closes
//	save STATE    saves a state with one log and stops before the rename,
//	              printing "renaming"; it is meant to be killed there
func TestHelperProcess(t *testing.T) {
	if os.Getenv("GO_WANT_HELPER_PROCESS") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	if len(args) != 3 {
		fmt.Fprintf(os.Stderr, "helper: want -- COMMAND STATE, got %q\n", args)
		os.Exit(2)
	}
	statePath := args[2]
	switch args[1] {
	case "lock":
		unlock, err := Lock(statePath, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n')
		if err := unlock(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "save":
		st := &State{files: map[string]file{"/var/log/helper.log": sampleFile(999)}}
		beforeRename = func() {
			fmt.Println("renaming")
			select {}
		}
		if err := st.Save(statePath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

// helper starts the test binary as a helper process and waits for its
// first line of output.
func helper(t *testing.T, command, statePath, ready string) (cmd *exec.Cmd, stdin interface{ Close() error }) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "--", command, statePath)
	cmd.Env = append(os.Environ(), "GO_WANT_HELPER_PROCESS=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != ready {
		t.Fatalf("helper %s said %q, %v; want %q", command, line, err, ready)
	}
	return cmd, in
}

func sampleFile(offset int64) file {
	return file{
		Name:       "/var/log/nginx/error.log.1",
		Dev:        2049,
		Ino:        1234567,
		HeadLen:    87,
		HeadSHA256: strings.Repeat("ab", 32),
		Size:       offset + 100,
		Offset:     offset,
		LastRecord: time.Date(2026, 11, 20, 10, 0, 7, 0, time.UTC),
		Run:        time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC),
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Loaded() || len(st.files) != 0 {
		t.Fatalf("missing file: Loaded %v, %d files", st.Loaded(), len(st.files))
	}
	st.files["/var/log/nginx/error.log"] = sampleFile(4096)
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "files": {
    "/var/log/nginx/error.log": {
      "file": "/var/log/nginx/error.log.1",
      "dev": 2049,
      "ino": 1234567,
      "head_len": 87,
      "head_sha256": "abababababababababababababababababababababababababababababababab",
      "size": 4196,
      "offset": 4096,
      "last_record": "2026-11-20T10:00:07Z",
      "run": "2026-11-20T11:00:00Z"
    }
  }
}
`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("state file (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}

	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Loaded() {
		t.Error("Loaded false for an existing file")
	}
	if diff := cmp.Diff(st.files, got.files); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}

	// Saving again keeps the mode an administrator gave the file.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := got.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after a save: %v, %v; want 0640", fi.Mode().Perm(), err)
	}
	assertOnly(t, dir, "state.json")
}

// assertOnly checks that dir holds exactly names: no temporary file left.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if diff := cmp.Diff(names, got); diff != "" {
		t.Errorf("files in %s (-want +got):\n%s", dir, diff)
	}
}

func TestLoadErrors(t *testing.T) {
	valid := func(edit string) string {
		return `{"version": 1, "files": {"/var/log/nginx/error.log": {"file": "/var/log/nginx/error.log",
			"dev": 1, "ino": 2, "head_len": 10, "head_sha256": "` + strings.Repeat("0f", 32) + `",
			"size": 100, "offset": 50, "last_record": "2026-11-20T10:00:00Z", "run": "2026-11-20T11:00:00Z"` + edit + `}}}`
	}
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "empty file"},
		{"not JSON", "state", "invalid JSON"},
		{"cut short", valid("")[:60], "invalid JSON"},
		{"two documents", valid("") + valid(""), "data after the document"},
		{"unknown version", `{"version": 2, "files": {}}`, "version 2 is not supported"},
		{"no version", `{"files": {}}`, "version 0 is not supported"},
		{"unknown field", `{"version": 1, "files": {}, "offsets": {}}`, `unknown field "offsets"`},
		{"negative offset", valid(`, "offset": -1`), "negative offset -1"},
		{"offset beyond size", valid(`, "offset": 101`), "offset 101 beyond size 100"},
		{"head too long", valid(`, "head_len": 5000`), "head_len 5000 out of range"},
		{"head longer than the file", valid(`, "head_len": 101`), "head_len 101 out of range"},
		{"bad hash", valid(`, "head_sha256": "xyz"`), "is not a SHA-256"},
		{"hash without head", valid(`, "head_len": 0`), "head_sha256 without head_len"},
		{"offset without head", valid(`, "head_len": 0, "head_sha256": ""`), "offset without head_len"},
		{"no run time", valid(`, "run": "0001-01-01T00:00:00Z"`), "no run time"},
		{"relative path", strings.Replace(valid(""), `"/var/log/nginx/error.log":`, `"error.log":`, 1), "not a clean absolute path"},
		{"unclean path", strings.Replace(valid(""), `"/var/log/nginx/error.log":`, `"/var/log/../log/error.log":`, 1), "not a clean absolute path"},
		{"relative file", strings.Replace(valid(""), `"file": "/var/log/nginx/error.log"`, `"file": "error.log"`, 1), "is not an absolute path"},
		{"wrong type", valid(`, "offset": "50"`), "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v\nwant an error naming %s and saying %q", err, path, tt.want)
			}
		})
	}

	t.Run("valid", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, []byte(valid("")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err != nil {
			t.Errorf("Load: %v", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		path := t.TempDir() // a directory
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Load: %v, want an error naming %s", err, path)
		}
	})
}

func TestSaveFails(t *testing.T) {
	st := &State{files: map[string]file{"/var/log/x.log": sampleFile(1)}}
	t.Run("no directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing", "state.json")
		if err := st.Save(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Save: %v, want an error naming %s", err, path)
		}
	})
	t.Run("cannot be replaced", func(t *testing.T) {
		dir := t.TempDir()
		// A directory where the state should be: the rename fails, after
		// the temporary file was written.
		path := filepath.Join(dir, "state.json")
		if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := st.Save(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Save: %v, want an error naming %s", err, path)
		}
		assertOnly(t, dir, "state.json")
	})
}

// TestSaveKilled kills a process in the middle of Save, after it wrote
// its temporary file and before the rename: the old state must be intact,
// and the next Save must succeed and remove the leftover.
func TestSaveKilled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	old := &State{files: map[string]file{"/var/log/nginx/error.log": sampleFile(10)}}
	if err := old.Save(path); err != nil {
		t.Fatal(err)
	}

	cmd, _ := helper(t, "save", path, "renaming")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || !strings.HasPrefix(entries[1].Name(), "state.json"+tmpInfix) {
		t.Fatalf("after the kill, want state.json and a temporary file, got %v", entries)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(old.files, got.files); diff != "" {
		t.Errorf("state after the kill (-want +got):\n%s", diff)
	}

	got.files["/var/log/php8.2-fpm.log"] = sampleFile(20)
	if err := got.Save(path); err != nil {
		t.Fatal(err)
	}
	again, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got.files, again.files); diff != "" {
		t.Errorf("state after the next save (-want +got):\n%s", diff)
	}
	assertOnly(t, dir, "state.json")
}

func TestCommit(t *testing.T) {
	t1 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	st := &State{files: make(map[string]file)}
	p := &Plan{Path: "/var/log/a.log", next: file{Name: "/var/log/a.log", Offset: 5, Size: 5}, run: t1.Add(time.Hour)}
	tests := []struct {
		last, want time.Time
	}{
		{last: t1, want: t1},
		{last: time.Time{}, want: t1}, // nothing read: kept
		{last: t1.Add(-time.Minute), want: t1},
		{last: t1.Add(time.Minute), want: t1.Add(time.Minute)},
	}
	if !st.LastRun().IsZero() {
		t.Errorf("LastRun of an empty state: %v", st.LastRun())
	}
	for _, tt := range tests {
		st.Commit(p, tt.last)
		got := st.files[p.Path]
		if !got.LastRecord.Equal(tt.want) || !got.Run.Equal(p.run) || got.Offset != 5 {
			t.Errorf("Commit(%v): %+v, want last record %v", tt.last, got, tt.want)
		}
	}
	// Another log, planned later: the latest run wins.
	st.Commit(&Plan{Path: "/var/log/b.log", next: file{Name: "/var/log/b.log"}, run: t1.Add(2 * time.Hour)}, time.Time{})
	st.Commit(&Plan{Path: "/var/log/c.log", next: file{Name: "/var/log/c.log"}, run: t1}, time.Time{})
	if got, want := st.LastRun(), t1.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("LastRun = %v, want %v", got, want)
	}
}
