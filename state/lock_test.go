package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	cmd, _ := helper(t, "lock", path, "locked")

	_, err := Lock(path, 0)
	want := fmt.Sprintf("state %s is locked by another logtriage digest run (pid %d)", path, cmd.Process.Pid)
	if !errors.Is(err, ErrLocked) || err.Error() != want {
		t.Errorf("Lock: %v\nwant %s", err, want)
	}

	start := time.Now()
	_, err = Lock(path, 300*time.Millisecond)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("Lock returned after %v, before its wait", waited)
	}
	if !errors.Is(err, ErrLocked) || !strings.HasSuffix(err.Error(), "after waiting 300ms") {
		t.Errorf("Lock with a wait: %v", err)
	}

	// kill -9: the kernel releases the lock.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	unlock, err := Lock(path, 0)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	data, err := os.ReadFile(path + ".lock")
	if err != nil || string(data) != fmt.Sprintf("%d\n", os.Getpid()) {
		t.Errorf("lock file holds %q, %v; want this pid", data, err)
	}
	if err := unlock(); err != nil {
		t.Error(err)
	}
}

func TestLockWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	cmd, stdin := helper(t, "lock", path, "locked")
	released := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		stdin.Close() // the helper unlocks and exits
		released <- cmd.Wait()
	}()
	start := time.Now()
	unlock, err := Lock(path, 10*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer unlock()
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("locked after %v, while the helper held the lock for 300ms", waited)
	}
	if err := <-released; err != nil {
		t.Errorf("helper: %v", err)
	}
}

func TestLockInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	unlock, err := Lock(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open files: a second open conflicts even in
	// the same process.
	if _, err := Lock(path, 0); !errors.Is(err, ErrLocked) {
		t.Errorf("second Lock: %v, want ErrLocked", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	// Unlocking clears the pid, so nobody names a process that is gone.
	if data, err := os.ReadFile(path + ".lock"); err != nil || len(data) != 0 {
		t.Errorf("lock file after unlock: %q, %v", data, err)
	}
	unlock, err = Lock(path, 0)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock()

	missing := filepath.Join(t.TempDir(), "missing", "state.json")
	if _, err := Lock(missing, 0); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Lock in a missing directory: %v, want an error naming %s", err, missing)
	}
}
