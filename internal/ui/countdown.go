package ui

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Countdown rewrites one status line on w every second: label plus the time left until until.
// It is meant for a terminal (it uses a carriage return); the returned stop clears the line and
// waits for the ticker goroutine to end.
func Countdown(w io.Writer, label string, until time.Time, now func() time.Time, s *Styles) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	draw := func() {
		left := until.Sub(now()).Round(time.Second)
		if left < 0 {
			left = 0
		}
		fmt.Fprintf(w, "\r\033[K%s %s", label, s.Dim.Render("(code expires in "+left.String()+")"))
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		draw()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				draw()
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
