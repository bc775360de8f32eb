package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Only a terminal is one: not a pipe, a file, /dev/null or a buffer.
func TestTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
		want bool
	}{
		{"a terminal", openTerminal(t), true},
		{"a pipe", w, false},
		{"a file", file, false},
		{"/dev/null", null, false},
		{"a buffer", &bytes.Buffer{}, false},
	} {
		if got := terminal(tc.w); got != tc.want {
			t.Errorf("%s: terminal = %v, want %v", tc.name, got, tc.want)
		}
	}
}
