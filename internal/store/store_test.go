package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPutGetDelete(t *testing.T) {
	t.Parallel()
	d, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get("cursor"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing key: %v, want ErrNotFound", err)
	}
	for _, v := range []string{"first", "second"} {
		if err := d.Put("cursor", []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := d.Get("cursor")
		if err != nil || string(got) != v {
			t.Fatalf("Get = %q, %v; want %q", got, err, v)
		}
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(d.Path())
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
	if err := d.Delete("cursor"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete("cursor"); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
}

func TestKeysCannotEscape(t *testing.T) {
	t.Parallel()
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"../x", "a/b", "", "..", "."} {
		if err := d.Put(k, []byte("x")); err == nil {
			t.Errorf("Put(%q) accepted", k)
		}
	}
}
