package follow_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/logtriage/logtriage/follow"
)

// Follow runs in its own goroutine and never closes the channel: close it
// when Follow has returned, so that the loop reading lines ends.
func ExampleFollow() {
	dir, err := os.MkdirTemp("", "follow")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	log := filepath.Join(dir, "error.log")
	if err := os.WriteFile(log, []byte("first\r\nsecond\n"), 0o644); err != nil {
		panic(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := make(chan follow.Line, 64)
	done := make(chan error, 1)
	go func() {
		done <- follow.Follow(ctx, []string{log}, follow.Options{FromStart: true}, lines)
		close(lines)
	}()
	n := 0
	for l := range lines {
		fmt.Printf("%s at %d: %s\n", filepath.Base(l.File), l.Offset, l.Text)
		if n++; n == 2 {
			cancel() // a watch command cancels on SIGINT instead
		}
	}
	fmt.Println("Follow returned", <-done)
	// Output:
	// error.log at 0: first
	// error.log at 7: second
	// Follow returned <nil>
}
