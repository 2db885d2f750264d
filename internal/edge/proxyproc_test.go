package edge

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// fillExample replaces each documented placeholder address in a docs/examples file with the
// test's own; each must appear exactly once, so the doc and the test cannot drift apart.
func fillExample(t *testing.T, file, conf string, repl map[string]string) string {
	t.Helper()
	for old, new := range repl {
		if strings.Count(conf, old) != 1 {
			t.Fatalf("%s must contain %q exactly once (the test fills in its own address)", file, old)
		}
		conf = strings.Replace(conf, old, new, 1)
	}
	return conf
}

// runProxyProcess starts a real reverse proxy (nginx, Caddy) as a child process, waits until it
// listens on 127.0.0.1:port (failing at once if it exits), and stops it when the test ends. On
// failure the test log gets the process's output plus extraLog(), when given.
func runProxyProcess(t *testing.T, name string, cmd *exec.Cmd, port string, extraLog func() string) string {
	t.Helper()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			more := ""
			if extraLog != nil {
				more = extraLog()
			}
			t.Logf("%s output:\n%s%s", name, out, more)
		}
	})
	addr := "127.0.0.1:" + port
	waitFor(t, name+" to listen", func() bool {
		select {
		case <-exited:
			t.Fatalf("%s exited: %s", name, out)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr
}
