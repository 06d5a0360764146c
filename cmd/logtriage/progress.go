package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/logtriage/logtriage/source"
)

// progress draws "reading 312/1024 MB (30%)" on stderr while analyze runs,
// on one line rewritten in place.
type progress struct {
	w     io.Writer
	c     *source.Counter
	total int64
	done  chan struct{}
	wg    sync.WaitGroup
}

func newProgress(w io.Writer, c *source.Counter, total int64) *progress {
	return &progress{w: w, c: c, total: total, done: make(chan struct{})}
}

func (p *progress) start() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				fmt.Fprint(p.w, "\r\x1b[K")
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
}

func (p *progress) draw() {
	n := p.c.Load()
	const mb = 1 << 20
	if p.total > 0 {
		pct := min(100, n*100/p.total)
		width := int64(30)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if int64(i) < pct*width/100 {
				bar[i] = '='
			}
		}
		fmt.Fprintf(p.w, "\r[%s] %d/%d MB (%d%%)", bar, n/mb, p.total/mb, pct)
		return
	}
	fmt.Fprintf(p.w, "\rread %d MB", n/mb)
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
}
