// Command gendocs writes pingedge's man pages and shell completions, generated from the cobra
// command tree, for release archives: go run ./tools/gendocs OUTDIR.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra/doc"

	"github.com/pingedge/pingedge/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./tools/gendocs OUTDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	f := &cli.Factory{IO: cli.IOStreams{In: os.Stdin, Out: io.Discard, ErrOut: io.Discard},
		Getenv: func(string) string { return "" }, Global: &cli.GlobalOptions{}}
	root := cli.NewRootCmd(f)
	root.DisableAutoGenTag = true
	man := filepath.Join(out, "man")
	comp := filepath.Join(out, "completions")
	for _, d := range []string{man, comp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenManTree(root, &doc.GenManHeader{Title: "PINGEDGE", Section: "1"}, man); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	gens := map[string]func(string) error{
		"pingedge.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
		"_pingedge":     root.GenZshCompletionFile,
		"pingedge.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
		"pingedge.ps1":  root.GenPowerShellCompletionFileWithDesc,
	}
	for name, gen := range gens {
		if err := gen(filepath.Join(comp, name)); err != nil {
			return fmt.Errorf("completion %s: %w", name, err)
		}
	}
	return nil
}
