package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// The build tests compile the real workloads (linux/amd64, cgo off) and
// assemble their images; the Go build cache keeps the second build fast.

const (
	testVersion  = "1.4.0-test"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testSource   = "https://github.com/sluicehq/sluice"
)

var testCreated = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func goBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no go command on PATH or in GOROOT: %v", err)
	}
	return p
}

func testOptions(t *testing.T, workloads ...string) Options {
	return Options{
		Root:      roottest.Root(t),
		Workloads: workloads,
		Version:   testVersion,
		Revision:  testRevision,
		Source:    testSource,
		Created:   testCreated,
		GoBin:     goBin(t),
		BinDir:    t.TempDir(),
	}
}

func build(t *testing.T, o Options) []Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	imgs, err := Build(ctx, o)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return imgs
}

// entry is one file of a layer as read back.
type entry struct {
	header *tar.Header
	data   []byte
}

func layerEntries(t *testing.T, l v1.Layer) []entry {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var out []entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read layer: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		out = append(out, entry{h, data})
	}
}

var shells = []string{"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "toybox"}

func TestWorkloadImages(t *testing.T) {
	first := build(t, testOptions(t))
	if len(first) != len(Workloads) {
		t.Fatalf("built %d images, want %d", len(first), len(Workloads))
	}
	second := build(t, testOptions(t))
	for i, img := range first {
		if second[i].Name != img.Name || second[i].Digest != img.Digest {
			t.Errorf("%s: two builds of the same source give %s and %s", img.Name, img.Digest, second[i].Digest)
		}
	}
	for _, img := range first {
		t.Run(img.Name, func(t *testing.T) { inspect(t, img) })
	}

	dir := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(dir, first); err != nil {
		t.Fatal(err)
	}
	// A second write replaces the layout instead of adding to it.
	if err := WriteLayout(dir, first); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != len(first) {
		t.Fatalf("layout holds %d manifests, want %d", len(im.Manifests), len(first))
	}
	for i, d := range im.Manifests {
		if d.Annotations[RefName] != first[i].Name || d.Digest != first[i].Digest || d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("layout manifest %d = %s %s %s, want %s %s", i, d.Annotations[RefName], d.Digest, d.MediaType, first[i].Name, first[i].Digest)
		}
		back, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := back.Digest(); got != first[i].Digest {
			t.Errorf("%s read back from the layout as %s", first[i].Name, got)
		}
	}
}

func inspect(t *testing.T, img Image) {
	cf, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/" + img.Name}) || len(c.Cmd) != 0 || c.WorkingDir != "/" {
		t.Errorf("config user %q entrypoint %q cmd %q workdir %q", c.User, c.Entrypoint, c.Cmd, c.WorkingDir)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Equal(testCreated) {
		t.Errorf("platform %s/%s created %s", cf.OS, cf.Architecture, cf.Created)
	}
	wantLabels := map[string]string{
		LabelSource: testSource, LabelRevision: testRevision, LabelVersion: testVersion,
		LabelCreated: "2026-03-01T12:00:00Z", LabelTitle: "sluice-" + img.Name,
	}
	m, err := img.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range wantLabels {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
		if m.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], v)
		}
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %s / %s, want OCI", m.MediaType, m.Config.MediaType)
	}

	layers, err := img.Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]entry{}
	var binary []byte
	for _, l := range layers {
		if mt, _ := l.MediaType(); mt != types.OCILayer {
			t.Errorf("layer media type %s", mt)
		}
		for _, e := range layerEntries(t, l) {
			h := e.header
			p := "/" + strings.TrimSuffix(h.Name, "/")
			files[p] = e
			if slices.Contains(shells, path.Base(p)) {
				t.Errorf("the image holds %s", p)
			}
			if !h.ModTime.Equal(testCreated) {
				t.Errorf("%s has mtime %s, want %s", p, h.ModTime, testCreated)
			}
			if (h.Uid != 0 || h.Gid != 0) && p != "/home/nonroot" {
				t.Errorf("%s is owned by %d:%d", p, h.Uid, h.Gid)
			}
			if h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink {
				t.Errorf("%s is a link to %s", p, h.Linkname)
			}
			if h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0 {
				if p != "/"+img.Name {
					t.Errorf("%s is executable; the only executable must be the workload", p)
				}
				binary = e.data
			}
		}
	}
	if len(layers) != 2 {
		t.Errorf("%d layers, want the base and the binary", len(layers))
	}
	if binary == nil {
		t.Fatalf("no executable /%s in the image", img.Name)
	}
	ca, ok := files[CABundlePath]
	if !ok || !x509.NewCertPool().AppendCertsFromPEM(ca.data) {
		t.Errorf("no parseable CA bundle at %s", CABundlePath)
	}
	tz, ok := files[ZoneInfoDir+"/Europe/Amsterdam"]
	if !ok {
		t.Fatal("no Europe/Amsterdam zone file")
	}
	loc, err := time.LoadLocationFromTZData("Europe/Amsterdam", tz.data)
	if err != nil {
		t.Fatalf("zone file: %v", err)
	}
	if _, off := time.Date(2026, 7, 1, 0, 0, 0, 0, loc).Zone(); off != 2*3600 {
		t.Errorf("Europe/Amsterdam summer offset %d, want 7200", off)
	}
	if pw := string(files["/etc/passwd"].data); !strings.Contains(pw, "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user: %q", pw)
	}
	if h := files["/tmp"].header; h == nil || h.Mode&0o1777 != 0o1777 {
		t.Error("/tmp is missing or not world-writable with the sticky bit")
	}

	// The binary from the image runs on this (linux/amd64) host.
	bin := filepath.Join(t.TempDir(), img.Name)
	if err := os.WriteFile(bin, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", img.Name, err, out)
	}
	if want := img.Name + " " + testVersion + " (revision " + testRevision + ")"; !strings.Contains(string(out), want) {
		t.Errorf("%s --version printed %q, want %q", img.Name, out, want)
	}
	out, err = exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", img.Name, err, out)
	}
	if !strings.Contains(string(out), img.Name) || len(bytes.TrimSpace(out)) < 20 {
		t.Errorf("%s --help printed %q", img.Name, out)
	}
	ef, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		t.Fatalf("the binary is not ELF: %v", err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary is dynamically linked (has an interpreter); want CGO_ENABLED=0")
		}
	}
	if bytes.Contains(binary, []byte(roottest.Root(t))) {
		t.Errorf("the binary holds the build directory %s; -trimpath was not applied", roottest.Root(t))
	}
}
