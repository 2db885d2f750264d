package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// VersionOptions are the inputs of `pingedge version`.
type VersionOptions struct {
	f *Factory
}

// VersionInfo is what `pingedge version -o json` prints.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
}

// NewCmdVersion builds `pingedge version`.
func NewCmdVersion(f *Factory, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{f: f}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the pingedge version",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *VersionOptions) error {
	info := buildVersion(opts.f.Version)
	if opts.f.Global.JSON() {
		return json.NewEncoder(opts.f.IO.Out).Encode(info)
	}
	_, err := fmt.Fprintln(opts.f.IO.Out, versionLine(info))
	return err
}

// versionLine is the text form shared by `pingedge version` and `pingedge --version`.
func versionLine(info VersionInfo) string {
	line := "pingedge " + info.Version
	if info.Commit != "" {
		line += " (" + info.Commit + ")"
	}
	return fmt.Sprintf("%s %s %s", line, info.GoVersion, info.Platform)
}

// buildVersion prefers the version stamped with -ldflags -X and falls back to the module
// version and VCS revision recorded by the Go toolchain (debug.ReadBuildInfo).
func buildVersion(stamped string) VersionInfo {
	info := VersionInfo{Version: stamped, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				info.Commit = s.Value[:12]
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	return info
}
