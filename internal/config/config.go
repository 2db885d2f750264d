// Package config holds pingedge's saved profiles: where the config file lives, how it is read and
// written, which environment variables override it, and the PingOne region shorthands.
//
// The saved config never holds a secret: refresh and access tokens live in internal/credstore.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"go.yaml.in/yaml/v3"
)

// DefaultProfile is the profile used when neither --profile nor PINGEDGE_PROFILE names one.
const DefaultProfile = "default"

// ErrInvalid marks configuration errors (exit code 2).
var ErrInvalid = errors.New("invalid configuration")

// File is the saved configuration file.
type File struct {
	// CurrentProfile is the profile used when none is named.
	CurrentProfile string              `yaml:"current_profile,omitempty"`
	Profiles       map[string]*Profile `yaml:"profiles,omitempty"`
}

// Profile is one saved sign-in target. It holds no secret.
type Profile struct {
	Issuer   string   `yaml:"issuer"`
	ClientID string   `yaml:"client_id"`
	Scopes   []string `yaml:"scopes,omitempty"`
	Resource string   `yaml:"resource,omitempty"`
	Flow     string   `yaml:"flow,omitempty"`  // auto, device or pkce
	Store    string   `yaml:"store,omitempty"` // keychain (default) or file
	Port     int      `yaml:"port,omitempty"`  // pinned loopback port for PKCE
	DPoP     bool     `yaml:"dpop,omitempty"`  // DPoP-bound tokens (login --dpop, docs/dpop.md)

	// Tunnel defaults.
	To     string  `yaml:"to,omitempty"`
	Listen string  `yaml:"listen,omitempty"`
	Routes []Route `yaml:"routes,omitempty"`
}

// Route sends requests under Prefix to URL.
type Route struct {
	Prefix string `yaml:"prefix"`
	URL    string `yaml:"url"`
}

// Env is how config reads the environment; tests pass a map.
type Env func(string) string

// Paths says where pingedge keeps its files.
type Paths struct {
	ConfigFile string // the YAML profiles file
	StateDir   string // locks, the opt-in file credential store, cached sessions (access tokens)
	// LegacyStateDir is where older versions kept the state (under the config directory); a
	// state directory found there is moved to StateDir once (PrepareStateDir).
	LegacyStateDir string
}

// ResolvePaths picks the config file: --config (flag), then PINGEDGE_CONFIG, then the user's config
// dir (XDG_CONFIG_HOME on Linux, ~/Library/Application Support on macOS, %AppData% on Windows).
// The state directory is PINGEDGE_STATE_DIR; else, beside a config file named explicitly (so a
// --config setup stays self-contained); else the XDG state directory (defaultStateDir).
func ResolvePaths(flagConfig string, env Env) (Paths, error) {
	file := flagConfig
	if file == "" {
		file = env("PINGEDGE_CONFIG")
	}
	var p Paths
	if file == "" {
		dir, err := userConfigDir(env)
		if err != nil {
			return Paths{}, fmt.Errorf("find the config directory: %w (set PINGEDGE_CONFIG or --config)", err)
		}
		file = filepath.Join(dir, "pingedge", "config.yaml")
		p.StateDir, p.LegacyStateDir = defaultStateDir(env, dir)
	} else {
		p.StateDir = filepath.Join(filepath.Dir(file), "state")
	}
	p.ConfigFile = file
	if s := env("PINGEDGE_STATE_DIR"); s != "" {
		p.StateDir, p.LegacyStateDir = s, ""
	}
	return p, nil
}

func userConfigDir(env Env) (string, error) {
	// os.UserConfigDir reads the real environment; honour the injected one on XDG systems first.
	if x := env("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return x, nil
	}
	if h := env("HOME"); h != "" && os.PathSeparator == '/' && !isDarwin() {
		return filepath.Join(h, ".config"), nil
	}
	return os.UserConfigDir()
}

// Load reads the config file; a missing file is an empty config.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{Profiles: map[string]*Profile{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	// Unknown keys are errors, as in the policy file: a misspelt "isuer" or "store:" under the
	// wrong profile would otherwise be ignored without a word (reference: docs/config.md).
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	if f.Profiles == nil {
		f.Profiles = map[string]*Profile{}
	}
	return &f, nil
}

// Save writes the config file atomically (temp file + rename), mode 0600, directory 0700.
func (f *File) Save(path string) error {
	b, err := yaml.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create config dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// ProfileName picks the active profile: --profile, PINGEDGE_PROFILE, the file's current profile,
// then "default".
func (f *File) ProfileName(flagProfile string, env Env) string {
	for _, n := range []string{flagProfile, env("PINGEDGE_PROFILE"), f.CurrentProfile} {
		if n != "" {
			return n
		}
	}
	return DefaultProfile
}

// Names lists the saved profiles in order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Effective returns a copy of the named profile with PINGEDGE_* environment overrides applied.
// There is no issuer override: PINGEDGE_ISSUER is what `pingedge exec` exports to its child, and a
// child running `pingedge --profile other …` must not have that profile's issuer replaced.
// ok is false when the profile is not saved (the overrides may still make it usable).
func (f *File) Effective(name string, env Env) (p Profile, ok bool) {
	if saved, found := f.Profiles[name]; found && saved != nil {
		p, ok = *saved, true
	}
	overrideString(&p.ClientID, env("PINGEDGE_CLIENT_ID"))
	overrideString(&p.Store, env("PINGEDGE_STORE"))
	overrideString(&p.Flow, env("PINGEDGE_FLOW"))
	return p, ok
}

func overrideString(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
