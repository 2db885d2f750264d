package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// releaseConfig is the part of .goreleaser.yaml these tests hold to the repository.
type releaseConfig struct {
	Archives []struct {
		Files []any `yaml:"files"`
	} `yaml:"archives"`
	HomebrewCasks []struct {
		License     string            `yaml:"license"`
		Manpages    []string          `yaml:"manpages"`
		Completions map[string]string `yaml:"completions"`
	} `yaml:"homebrew_casks"`
	Scoops []struct {
		License string `yaml:"license"`
	} `yaml:"scoops"`
}

func loadRelease(t *testing.T) releaseConfig {
	t.Helper()
	b, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rc releaseConfig
	if err := yaml.Unmarshal(b, &rc); err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestLicenceAgreesEverywhere (issue 12 item 16): the Apache-2.0 text is at the root, every
// manifest says Apache-2.0, and the release archives ship LICENSE by name.
func TestLicenceAgreesEverywhere(t *testing.T) {
	lic, err := os.ReadFile("../../LICENSE")
	if err != nil || !strings.Contains(string(lic), "Apache License\n                           Version 2.0, January 2004") ||
		!strings.Contains(string(lic), "END OF TERMS AND CONDITIONS") {
		t.Fatalf("LICENSE is not the Apache License 2.0 text: %v", err)
	}
	var pkg struct{ License string }
	b, err := os.ReadFile("../../worker/package.json")
	if err != nil || json.Unmarshal(b, &pkg) != nil || pkg.License != "Apache-2.0" {
		t.Errorf("worker/package.json license = %q (%v)", pkg.License, err)
	}
	rc := loadRelease(t)
	if len(rc.Archives) == 0 || !slices.Contains(rc.Archives[0].Files, any("LICENSE")) {
		t.Errorf("release archives do not ship LICENSE by name: %v", rc.Archives)
	}
	if len(rc.HomebrewCasks) == 0 || rc.HomebrewCasks[0].License != "Apache-2.0" || len(rc.Scoops) == 0 || rc.Scoops[0].License != "Apache-2.0" {
		t.Errorf("Homebrew cask / Scoop manifest licence: %+v %+v", rc.HomebrewCasks, rc.Scoops)
	}
}

// TestCaskShipsWhatGendocsWrites (issue 12 item 15): every man page and completion script the
// Homebrew cask installs is a file this tool generates, so the cask cannot point at nothing; and
// README.md gives each install path the release produces.
func TestCaskShipsWhatGendocsWrites(t *testing.T) {
	out := t.TempDir()
	if err := run(out); err != nil {
		t.Fatal(err)
	}
	rc := loadRelease(t)
	if len(rc.HomebrewCasks) == 0 {
		t.Fatal("no homebrew_casks in .goreleaser.yaml")
	}
	cask := rc.HomebrewCasks[0]
	files := append([]string{}, cask.Manpages...)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if cask.Completions[shell] == "" {
			t.Errorf("the cask installs no %s completion", shell)
		}
		files = append(files, cask.Completions[shell])
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("the cask installs %s, which gendocs does not write: %v", f, err)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go install github.com/pingedge/pingedge/cmd/pingedge@latest",
		"brew install pingedge/tap/pingedge", "scoop install pingedge", "checksums.txt",
		"pingedge completion zsh", "pingedge completion powershell", "## macOS and Windows", "Credential", "unix:"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
}
