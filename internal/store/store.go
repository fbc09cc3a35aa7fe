// Package store is wallboard's state directory: resume cursors and model
// snapshots, each a small file written atomically (temporary file, fsync,
// rename), so a crash at any instant leaves either the old or the new file.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// ErrNotFound is returned by Get when nothing was stored under the key.
var ErrNotFound = errors.New("not found")

// Dir is a state directory.
type Dir struct {
	path string
}

// Open returns the state directory at path, creating it if needed.
func Open(path string) (*Dir, error) {
	// Only wallboard's user: the directory holds the database (password
	// hashes, sessions) and snapshots of the floor.
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create state directory: %w", err)
	}
	return &Dir{path: path}, nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

var keyRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (d *Dir) file(key string) (string, error) {
	if !keyRE.MatchString(key) || key == "." || key == ".." {
		return "", fmt.Errorf("invalid state key %q", key)
	}
	return filepath.Join(d.path, key), nil
}

// Get returns the value stored under key, or ErrNotFound.
func (d *Dir) Get(key string) ([]byte, error) {
	name, err := d.file(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", key, err)
	}
	return b, nil
}

// Put stores value under key atomically.
func (d *Dir) Put(key string, value []byte) error {
	name, err := d.file(key)
	if err != nil {
		return err
	}
	return WriteAtomic(name, value)
}

// Delete removes key; a missing key is not an error.
func (d *Dir) Delete(key string) error {
	name, err := d.file(key)
	if err != nil {
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("failed to delete %s: %w", key, err)
	}
	return nil
}

// WriteAtomic writes b to name through a temporary file in the same
// directory, fsyncs it, renames it over name and fsyncs the directory.
func WriteAtomic(name string, b []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("failed to sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("failed to replace %s: %w", name, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
