package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type module struct{ name, kind, path string } // kind: esModule or wasm
type binding struct{ name, text string }

// target is one Worker under test.
type target struct {
	name     string
	modules  []module
	bindings []binding
	kv       string // directory of a disk-backed KV namespace bound as PINGEDGE_KV ("" = none)
}

// ident is the target's name as a Cap'n Proto constant (camelCase, no punctuation).
func (t *target) ident() string { return strings.NewReplacer("+", "With", "-", "").Replace(t.name) }

// config is workerd's Cap'n Proto configuration, written in dir, serving each target on the
// socket of its name. workerd reads embedded files relative to the config's directory only.
func config(dir string, ts []*target) string {
	rel := func(p string) string {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return p
		}
		return r
	}
	var services, sockets, workers []string
	services = append(services, `(name = "net", network = (allow = ["public", "private", "local"]))`)
	for _, t := range ts {
		id := t.ident()
		services = append(services, fmt.Sprintf("(name = %q, worker = .%s)", t.name, id))
		sockets = append(sockets, fmt.Sprintf("(name = %q, http = (), service = %q)", t.name, t.name))
		var mods, binds []string
		for _, m := range t.modules {
			mods = append(mods, fmt.Sprintf("(name = %q, %s = embed %q)", m.name, m.kind, rel(m.path)))
		}
		for _, b := range t.bindings {
			binds = append(binds, fmt.Sprintf("(name = %q, text = %q)", b.name, b.text))
		}
		if t.kv != "" {
			services = append(services, fmt.Sprintf("(name = %q, disk = (path = %q, writable = true))", t.name+"-kv", rel(t.kv)))
			binds = append(binds, fmt.Sprintf("(name = \"PINGEDGE_KV\", kvNamespace = %q)", t.name+"-kv"))
		}
		workers = append(workers, fmt.Sprintf("const %s :Workerd.Worker = (\n  modules = [%s],\n  compatibilityDate = \"2025-09-01\",\n  bindings = [%s],\n  globalOutbound = \"net\",\n);\n",
			id, strings.Join(mods, ", "), strings.Join(binds, ", ")))
	}
	return fmt.Sprintf("using Workerd = import \"/workerd/workerd.capnp\";\nconst config :Workerd.Config = (\n  services = [%s],\n  sockets = [%s],\n);\n%s",
		strings.Join(services, ",\n    "), strings.Join(sockets, ",\n    "), strings.Join(workers, "\n"))
}

// workerdProc is a running workerd.
type workerdProc struct {
	cmd     *exec.Cmd
	lns     []*net.TCPListener
	url     map[string]string
	logs    logFile
	started time.Time
	done    chan struct{}
}

type logFile string

func (l logFile) String() string { b, _ := os.ReadFile(string(l)); return string(b) }

// startWorkerd writes the config for ts into dir and starts workerd on listeners bound
// beforehand and handed over with --socket-fd, so a request sent right after the spawn waits
// in the socket's backlog and measures the time until workerd answers it.
func (e *env) startWorkerd(ctx context.Context, dir string, ts []*target) (*workerdProc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.capnp"), []byte(config(dir, ts)), 0o644); err != nil {
		return nil, err
	}
	p := &workerdProc{url: map[string]string{}, logs: logFile(filepath.Join(dir, "workerd.log")), done: make(chan struct{})}
	args := []string{"serve", "--verbose"}
	var files []*os.File
	for i, t := range ts {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return nil, err
		}
		f, err := ln.File()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		p.lns = append(p.lns, ln)
		files = append(files, f)
		p.url[t.name] = "http://" + ln.Addr().String()
		args = append(args, "--socket-fd", t.name+"="+strconv.Itoa(3+i))
	}
	args = append(args, "config.capnp")
	name := e.workerd
	if e.taskset != "" {
		args = append([]string{"-c", e.taskset, e.workerd}, args...)
		name = "taskset"
	}
	log, err := os.Create(string(p.logs))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	p.cmd = exec.CommandContext(ctx, name, args...)
	p.cmd.Dir, p.cmd.Stdout, p.cmd.Stderr, p.cmd.ExtraFiles = dir, log, log, files
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(os.Interrupt) }
	p.cmd.WaitDelay = 5 * time.Second
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start workerd: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *workerdProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	for _, ln := range p.lns {
		_ = ln.Close()
	}
}
