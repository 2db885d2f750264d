// Command wasmsize says what a Go wasm module is made of: the bytes of code per package (from
// the function bodies and the "name" section) and the size of the data segments. `go tool nm
// -size` does not read wasm; build without -ldflags=-s so the names are there:
//
//	GOOS=js GOARCH=wasm go build -trimpath -o /tmp/w.wasm ./worker/wasm
//	go run ./bench/wasmsize /tmp/w.wasm [-n 40] [-func]
//
// It is a benchmark helper (bench/worker.sh's companion), not part of pingedge.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	n := flag.Int("n", 40, "rows to print")
	byFunc := flag.Bool("func", false, "one row per function instead of per package")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-n N] [-func] FILE.wasm")
		os.Exit(2)
	}
	m, err := read(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
	m.print(*n, *byFunc)
}

type module struct {
	imports int
	bodies  []int // code bytes per defined function
	names   map[int]string
	data    int
}

func read(path string) (*module, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, errors.New("not a wasm module")
	}
	m := &module{names: map[int]string{}}
	for i := 8; i < len(b); {
		size, n := binary.Uvarint(b[i+1:])
		start := i + 1 + n
		if n <= 0 || start+int(size) > len(b) {
			return nil, errors.New("truncated section")
		}
		m.section(b[i], b[start:start+int(size)])
		i = start + int(size)
	}
	if len(m.names) == 0 {
		return nil, errors.New("no name section: build without -ldflags=-s")
	}
	return m, nil
}

// section reads what is needed from one section (ids per the WebAssembly core spec §5.5).
func (m *module) section(id byte, s []byte) {
	r := reader{b: s}
	switch id {
	case 2: // imports: functions come before the module's own in the index space
		for range r.u() {
			r.skip(int(r.u()))
			r.skip(int(r.u()))
			if kind := r.byte(); kind == 0 {
				r.u()
				m.imports++
			}
		}
	case 10: // code
		for range r.u() {
			start := r.i
			size := int(r.u())
			r.skip(size)
			m.bodies = append(m.bodies, r.i-start)
		}
	case 11: // data
		m.data = len(s)
	case 0: // custom: the "name" section's function names (subsection 1)
		if string(r.bytes(int(r.u()))) != "name" {
			return
		}
		for r.i < len(r.b) {
			sub, size := r.byte(), int(r.u())
			end := r.i + size
			if sub == 1 {
				for range r.u() {
					idx := int(r.u())
					m.names[idx] = string(r.bytes(int(r.u())))
				}
			}
			r.i = end
		}
	}
}

func (m *module) print(rows int, byFunc bool) {
	sizes := map[string]int{}
	total := 0
	for i, size := range m.bodies {
		name := m.names[m.imports+i]
		if !byFunc {
			name = pkgOf(name)
		}
		sizes[name] += size
		total += size
	}
	keys := make([]string, 0, len(sizes))
	for k := range sizes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return sizes[b] - sizes[a] })
	fmt.Printf("code %d bytes in %d functions; data segments %d bytes\n", total, len(m.bodies), m.data)
	for _, k := range keys[:min(rows, len(keys))] {
		fmt.Printf("%9d %5.1f%%  %s\n", sizes[k], 100*float64(sizes[k])/float64(total), k)
	}
}

// host matches a module path's host as Go's linker writes it into wasm names ('/' becomes '_').
var host = regexp.MustCompile(`^([a-z0-9-]+\.)+(com|org|in|io|net|dev)_`)

// pkgOf is the package of a wasm function name: the import path up to the '.' that starts the
// symbol (github.com_pingedge_pingedge_internal_verify.__Engine_.decide → …internal_verify).
func pkgOf(name string) string {
	start := len(host.FindString(name))
	if dot := strings.Index(name[start:], "."); dot >= 0 {
		return name[:start+dot]
	}
	return name
}

type reader struct {
	b []byte
	i int
}

func (r *reader) u() uint64 {
	v, n := binary.Uvarint(r.b[r.i:])
	r.i += n
	return v
}
func (r *reader) byte() byte         { r.i++; return r.b[r.i-1] }
func (r *reader) skip(n int)         { r.i += n }
func (r *reader) bytes(n int) []byte { r.i += n; return r.b[r.i-n : r.i] }
