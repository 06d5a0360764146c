//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package state

import (
	"errors"
	"os"
)

func tryLock(*os.File) (bool, error) {
	return false, errors.New("flock is not available on this system")
}
