package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"time"
)

func TestLayerTarIsSortedAndDeterministic(t *testing.T) {
	build := func(order []File) []byte {
		l := NewLayer()
		for _, f := range order {
			if err := l.Add(f); err != nil {
				t.Fatal(err)
			}
		}
		var b bytes.Buffer
		if err := l.Tar(&b, time.Unix(1700000000, 0)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	files := []File{
		{Path: "/usr/share/zoneinfo/UTC", Mode: 0o644, Data: []byte("tz")},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root")},
		{Path: "/home/nonroot", Mode: 0o700, UID: 65532, GID: 65532, Dir: true},
		{Path: "/app", Mode: 0o755, Data: []byte("bin")},
	}
	reversed := slices.Clone(files)
	slices.Reverse(reversed)
	a, b := build(files), build(reversed)
	if !bytes.Equal(a, b) {
		t.Fatal("the same files added in another order give another tar stream")
	}
	tr := tar.NewReader(bytes.NewReader(a))
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(time.Unix(1700000000, 0)) || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: mtime %s uname %q gname %q", h.Name, h.ModTime, h.Uname, h.Gname)
		}
		if h.Name == "home/nonroot/" && (h.Uid != 65532 || h.Typeflag != tar.TypeDir) {
			t.Errorf("home/nonroot/: uid %d type %c", h.Uid, h.Typeflag)
		}
	}
	want := []string{"app", "etc/", "etc/passwd", "home/", "home/nonroot/", "usr/", "usr/share/", "usr/share/zoneinfo/", "usr/share/zoneinfo/UTC"}
	if !slices.Equal(names, want) {
		t.Errorf("entries = %q, want %q (sorted, parents added)", names, want)
	}
	other := NewLayer()
	if err := other.Add(File{Path: "/app", Mode: 0o755, Data: []byte("bin")}); err != nil {
		t.Fatal(err)
	}
	l1, err := other.Image(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	l2, err := other.Image(time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := l1.Digest()
	d2, _ := l2.Digest()
	if d1 == d2 {
		t.Error("the layer digest ignores the modification time")
	}
	again, err := other.Image(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := again.Digest(); d != d1 {
		t.Errorf("the same layer gzips to %s and %s", d1, d)
	}
}

func TestLayerRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", "/", "etc/passwd", "/etc/../passwd", "/etc//passwd", "/etc/"} {
		if err := NewLayer().Add(File{Path: p, Data: []byte("x")}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}

func TestTagAndRegistry(t *testing.T) {
	for in, want := range map[string]string{"v1.2.0": "v1.2.0", "1.2.0+abc": "1.2.0-abc", "bbc8106-dirty": "bbc8106-dirty", "..x": "x", "": "latest"} {
		if got := Tag(in); got != want {
			t.Errorf("Tag(%q) = %q, want %q", in, got, want)
		}
	}
	for _, ok := range []string{"myacr.azurecr.io", "127.0.0.1:5000"} {
		if err := ValidRegistry(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "https://myacr.azurecr.io", "myacr.azurecr.io/sluice", "MyACR.azurecr.io"} {
		if ValidRegistry(bad) == nil {
			t.Errorf("registry %q accepted", bad)
		}
	}
}
