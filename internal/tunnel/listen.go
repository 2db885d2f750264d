package tunnel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

var (
	// ErrNotLoopback refuses a listen address other machines could reach.
	ErrNotLoopback = errors.New("listen address is not loopback")
	// ErrListen: the listen address is malformed, taken, or not permitted. The CLI maps it to a
	// usage error with the flag to change; this package names no flag.
	ErrListen = errors.New("cannot listen")
	// ErrBadOrigin: an allowed origin is a wildcard or not an origin at all. The CLI adds the
	// flag and an example.
	ErrBadOrigin = errors.New("refused allowed origin")
)

// Listen opens the tunnel's listener. addr is host:port or unix:/path. A non-loopback TCP address
// is refused unless allowRemote: anyone who can connect would act with the engineer's identity.
func Listen(addr string, allowRemote bool) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return listenUnix(path)
	}
	if !allowRemote && !IsLoopbackAddr(addr) {
		return nil, fmt.Errorf("%w: %s would let other machines use your identity", ErrNotLoopback, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %w", ErrListen, addr, err)
	}
	return ln, nil
}

// IsLoopbackAddr reports whether a TCP listen address binds only loopback interfaces. An empty
// host ("":8080) binds every interface.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listenUnix binds a unix socket readable and writable by its owner only. The socket is created
// in a private (0700) directory, chmod-ed, then linked into place, so it is never reachable with
// looser permissions.
func listenUnix(path string) (net.Listener, error) {
	if path == "" {
		return nil, fmt.Errorf("%w on unix: (no path): give one, for example unix:/tmp/pingedge.sock", ErrListen)
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".pingedge-sock-")
	if err != nil {
		return nil, fmt.Errorf("%w on unix:%s: %w", ErrListen, path, err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("%w on unix:%s: %w", ErrListen, path, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	err = os.Chmod(tmp, 0o600)
	if err == nil {
		err = os.Link(tmp, path) // unlike Rename, never replaces an existing file
	}
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("%w on unix:%s: %w (a stale socket? remove it first)", ErrListen, path, err)
	}
	return &unixListener{UnixListener: ul, path: path}, nil
}

// unixListener removes its socket file on Close.
type unixListener struct {
	*net.UnixListener
	path string
}

// Addr is the socket's final path, not the private directory it was created in.
func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	_ = os.Remove(l.path)
	return err
}

// listenerPort is the TCP port the guard expects in Host; 0 for unix sockets.
func listenerPort(ln net.Listener) int {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}
