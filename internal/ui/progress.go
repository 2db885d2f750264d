package ui

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// spinnerFrames are drawn on a terminal, one every spinnerEvery.
var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

const spinnerEvery = 100 * time.Millisecond

// Progress announces a step that may be slow, once it has taken longer than delay (fast steps
// print nothing): on a terminal a spinner line "⠋ label (3s)" rewritten in place, elsewhere one
// plain "label…" line, since a log has no use for animation. done ends it and clears the
// spinner; it may be called more than once.
func Progress(w io.Writer, tty bool, label string, delay time.Duration) (done func()) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		select {
		case <-stop:
			return
		case <-time.After(delay):
		}
		if !tty {
			fmt.Fprintf(w, "pingedge: %s…\n", label)
			<-stop
			return
		}
		spin(w, label, start, stop)
	}()
	var once sync.Once
	return func() { once.Do(func() { close(stop); wg.Wait() }) }
}

func spin(w io.Writer, label string, start time.Time, stop <-chan struct{}) {
	t := time.NewTicker(spinnerEvery)
	defer t.Stop()
	for i := 0; ; i++ {
		fmt.Fprintf(w, "\r\033[K%s %s (%ds)", spinnerFrames[i%len(spinnerFrames)], label, int(time.Since(start).Seconds()))
		select {
		case <-stop:
			fmt.Fprint(w, "\r\033[K")
			return
		case <-t.C:
		}
	}
}
