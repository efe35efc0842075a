package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of a layer: a regular file (Data set), a directory
// (Dir) or a symbolic link (Link set). Paths are absolute ("/etc/passwd").
type File struct {
	Path string
	Mode int64
	UID  int
	GID  int
	Dir  bool
	Link string
	Data []byte
}

// Layer is a set of files that becomes one reproducible image layer.
type Layer struct {
	files map[string]File
}

// NewLayer returns an empty layer.
func NewLayer() *Layer { return &Layer{files: map[string]File{}} }

// Add puts f in the layer, with every parent directory (root-owned, 0755)
// that was not added explicitly. Adding a path twice keeps the last one.
func (l *Layer) Add(f File) error {
	clean := path.Clean(f.Path)
	if !strings.HasPrefix(f.Path, "/") || clean == "/" || clean != f.Path {
		return fmt.Errorf("layer entry %q: not a clean absolute path", f.Path)
	}
	for dir := path.Dir(clean); dir != "/"; dir = path.Dir(dir) {
		if _, ok := l.files[dir]; !ok {
			l.files[dir] = File{Path: dir, Mode: 0o755, Dir: true}
		}
	}
	l.files[clean] = f
	return nil
}

// Paths returns the layer's paths in the order they are written.
func (l *Layer) Paths() []string {
	paths := make([]string, 0, len(l.files))
	for p := range l.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// Tar writes the layer as an uncompressed tar stream: entries sorted by
// path (parents before children), every time set to mtime, no user or
// group names, so the bytes depend only on the files and mtime.
func (l *Layer) Tar(w io.Writer, mtime time.Time) error {
	tw := tar.NewWriter(w)
	mtime = mtime.UTC().Truncate(time.Second)
	for _, p := range l.Paths() {
		f := l.files[p]
		name := strings.TrimPrefix(p, "/")
		h := &tar.Header{
			Name:    name,
			Mode:    f.Mode,
			Uid:     f.UID,
			Gid:     f.GID,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		switch {
		case f.Dir:
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		case f.Link != "":
			h.Typeflag = tar.TypeSymlink
			h.Linkname = f.Link
		default:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write tar header %s: %w", name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return fmt.Errorf("write tar entry %s: %w", name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close tar: %w", err)
	}
	return nil
}

// Image turns the layer into an OCI layer: the tar stream gzipped once,
// with no name or timestamp in the gzip header.
func (l *Layer) Image(mtime time.Time) (v1.Layer, error) {
	var raw bytes.Buffer
	if err := l.Tar(&raw, mtime); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip layer: %w", err)
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, fmt.Errorf("gzip layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip layer: %w", err)
	}
	blob := gz.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer from tar: %w", err)
	}
	return layer, nil
}
