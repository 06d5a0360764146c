package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ErrLocked is returned by Lock when another run holds the lock.
var ErrLocked = errors.New("locked by another logtriage digest run")

// lockPoll is how often Lock tries again while it waits.
const lockPoll = 100 * time.Millisecond

// Lock takes an exclusive lock on the state file at statePath, so that
// two runs never read the same records or overwrite each other's state.
// The lock is flock(2) on statePath+".lock", which the kernel releases
// when the holder exits, however it dies (kill -9 included), so a stale
// lock never needs clearing by hand; the lock file itself stays. The
// holder's pid is written into it for the message of a run that finds it
// locked. With wait 0, a locked state is an error wrapping ErrLocked at
// once; otherwise Lock tries again until wait has passed. unlock releases
// the lock.
func Lock(statePath string, wait time.Duration) (unlock func() error, err error) {
	name := statePath + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock state %s: %w", statePath, err)
	}
	deadline := time.Now().Add(wait)
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock state %s: flock %s: %w", statePath, name, err)
		}
		if ok {
			break
		}
		if left := time.Until(deadline); left > 0 {
			time.Sleep(min(lockPoll, left))
			continue
		}
		holder := lockHolder(f)
		f.Close()
		waited := ""
		if wait > 0 {
			waited = fmt.Sprintf(" after waiting %s", wait)
		}
		return nil, fmt.Errorf("state %s is %w%s%s", statePath, ErrLocked, holder, waited)
	}
	// The pid is for people: a run that cannot write it still holds the
	// lock, so failing to write it is not an error.
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		// Clear the pid first so that nobody reads it after the lock is
		// released; closing the descriptor releases the lock.
		f.Truncate(0)
		if err := f.Close(); err != nil {
			return fmt.Errorf("unlock state %s: %w", statePath, err)
		}
		return nil
	}, nil
}

// lockHolder returns " (pid N)" as written by the holder of f's lock, or
// "" when there is none yet.
func lockHolder(f *os.File) string {
	var buf [32]byte
	n, _ := f.ReadAt(buf[:], 0)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	if err != nil || pid <= 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}
