package credstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pingedge/pingedge/internal/secret"
)

// File stores refresh tokens in plain-text files, one per profile, mode 0600 in a 0700 directory.
// It is used only when the user opts in (--store file or `store: file` in the profile) and is
// announced at login and shown by status: it is never a silent fallback for a missing keychain.
type File struct {
	Dir string // e.g. <state dir>/credentials
}

type fileRecord struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *File) Kind() string { return KindFile }

func (s *File) Describe() string {
	return fmt.Sprintf("plain-text file in %s (mode 0600, opted in with --store file)", s.Dir)
}

func (s *File) path(profile string) (string, error) {
	if err := CheckProfile(profile); err != nil {
		return "", err
	}
	return filepath.Join(s.Dir, profile+".json"), nil
}

func (s *File) Get(_ context.Context, profile string) (secret.String, error) {
	p, err := s.path(profile)
	if err != nil {
		return "", err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer f.Close()
	if err := checkPrivate(f, p); err != nil {
		return "", err
	}
	var rec fileRecord
	if err := json.NewDecoder(f).Decode(&rec); err != nil || rec.RefreshToken == "" {
		return "", fmt.Errorf("%w: %s is not a pingedge credential file: delete it and log in again", ErrUnavailable, p)
	}
	return secret.String(rec.RefreshToken), nil
}

// checkPrivate refuses a credential file others can read, like ssh does for private keys.
func checkPrivate(f *os.File, p string) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if st.Mode().Perm()&0o077 != 0 && filePermsMatter() {
		return fmt.Errorf("%w: %s is readable by others (mode %v): run chmod 600 %s, then log in again", ErrUnavailable, p, st.Mode().Perm(), p)
	}
	return nil
}

func (s *File) Set(_ context.Context, profile string, token secret.String) error {
	p, err := s.path(profile)
	if err != nil {
		return err
	}
	b, err := json.Marshal(fileRecord{RefreshToken: token.Reveal()})
	if err != nil {
		return err
	}
	return WritePrivate(p, b)
}

func (s *File) Delete(_ context.Context, profile string) error {
	p, err := s.path(profile)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	return nil
}

// WritePrivate writes b to path atomically (temp file, fsync, rename) with mode 0600 in a 0700
// directory, so a reader never sees half a file and no one else can read it at any moment.
func WritePrivate(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && filePermsMatter() {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
