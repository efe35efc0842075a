package images

import (
	"github.com/sluicehq/sluice/images/imagestest"

	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// There is no Docker Hub here: the tests stand in for Apache Spark's image
// with one shaped like it (a Docker manifest, /opt/spark with a jar, the
// entrypoint script, uid 185, Spark's working directory and environment).

var sparkBaseEnv = []string{
	"PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"JAVA_HOME=/opt/java/openjdk",
	"SPARK_HOME=/opt/spark",
}

func standInSparkBase(t *testing.T) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	system := NewLayer()
	for _, f := range []File{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0::/root:/bin/bash\nspark:x:185:185::/home/spark:/bin/false\n")},
		{Path: "/opt/java/openjdk/bin/java", Mode: 0o755, Data: []byte("not a jvm")},
	} {
		if err := system.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	spark := NewLayer()
	for _, f := range []File{
		{Path: "/opt/entrypoint.sh", Mode: 0o755, Data: []byte("#!/bin/bash\nexec \"$@\"\n")},
		{Path: "/opt/spark/jars/spark-core_2.12-3.5.7.jar", Mode: 0o644, Data: []byte("spark core")},
		{Path: "/opt/spark/work-dir", Mode: 0o777, UID: 185, GID: 185, Dir: true},
	} {
		if err := spark.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range []*Layer{system, spark} {
		layer, err := l.Image(testCreated)
		if err != nil {
			t.Fatal(err)
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.DockerLayer,
			History: v1.History{CreatedBy: fmt.Sprintf("stand-in spark layer %d", i)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = []string{"/opt/entrypoint.sh"}
	cf.Config.User = "185"
	cf.Config.WorkingDir = "/opt/spark/work-dir"
	cf.Config.Env = sparkBaseEnv
	// Ubuntu's labels, as Spark's image inherits them: ours win.
	cf.Config.Labels = map[string]string{"org.opencontainers.image.ref.name": "ubuntu", LabelVersion: "22.04"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// serveSparkBase serves the stand-in in-process and returns its reference
// pinned by digest.
func serveSparkBase(t *testing.T, base v1.Image) string {
	return imagestest.Serve(t, "apache/spark:3.5.7-scala2.12-java17-ubuntu", base)
}

var testJars = map[string]string{
	"sluice-spark.jar":                         "the job",
	"kafka-clients-3.4.1.jar":                  "kafka clients",
	"spark-sql-kafka-0-10_2.12-3.5.7.jar":      "kafka source",
	"spark-cassandra-connector_2.12-3.5.1.jar": "cassandra connector",
}

func writeTestJars(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for n, data := range testJars {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Not a jar: left out.
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func streamOptions(t *testing.T, ref, jars string) Options {
	o := testOptions(t, Stream)
	o.SparkBase, o.SparkJars = ref, jars
	return o
}

// buildStream builds with a context that outlives Build: the base's
// layers are fetched from the registry when first read (WriteLayout).
func buildStream(t *testing.T, o Options) []Image {
	t.Helper()
	imgs, err := Build(context.Background(), o)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return imgs
}

func TestStreamImage(t *testing.T) {
	base := standInSparkBase(t)
	ref := serveSparkBase(t, base)
	jars := writeTestJars(t)
	first := buildStream(t, streamOptions(t, ref, jars))
	second := buildStream(t, streamOptions(t, ref, jars))
	if len(first) != 1 || first[0].Name != Stream {
		t.Fatalf("built %d images (%v), want the stream image alone", len(first), first)
	}
	img := first[0]
	if second[0].Digest != img.Digest {
		t.Errorf("two builds of the same base and jars give %s and %s", img.Digest, second[0].Digest)
	}
	if img.Binary != "" {
		t.Errorf("the stream image has a binary %q", img.Binary)
	}

	baseDigest, _ := base.Digest()
	m, err := img.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %s / %s, want OCI", m.MediaType, m.Config.MediaType)
	}
	wantAnn := map[string]string{
		LabelSource: testSource, LabelRevision: testRevision, LabelVersion: testVersion,
		LabelCreated: "2026-03-01T12:00:00Z", LabelTitle: "sluice-stream",
		LabelBaseName: ref, LabelBaseDigest: baseDigest.String(),
	}
	for k, v := range wantAnn {
		if m.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], v)
		}
	}

	cf, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !slices.Equal(c.Entrypoint, []string{"/opt/entrypoint.sh"}) || len(c.Cmd) != 0 || c.WorkingDir != "/opt/spark/work-dir" || !slices.Equal(c.Env, sparkBaseEnv) {
		t.Errorf("config entrypoint %q cmd %q workdir %q env %q: want the base's", c.Entrypoint, c.Cmd, c.WorkingDir, c.Env)
	}
	if c.User != "185" || !cf.Created.Equal(testCreated) || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("config user %q created %s platform %s/%s", c.User, cf.Created, cf.OS, cf.Architecture)
	}
	for k, v := range wantAnn {
		if k == LabelBaseName || k == LabelBaseDigest {
			continue
		}
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if last := cf.History[len(cf.History)-1]; !strings.Contains(last.CreatedBy, deploy.SparkJarDir) || !last.Created.Equal(testCreated) {
		t.Errorf("last history entry %+v", last)
	}

	layers := checkOneLayerOn(t, base, img.Image)
	var names []string
	for _, e := range layerEntries(t, layers[len(layers)-1]) {
		h := e.header
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(testCreated) {
			t.Errorf("%s: owner %d:%d mtime %s", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if h.Mode != 0o755 {
				t.Errorf("%s: mode %o, want 755", h.Name, h.Mode)
			}
		case tar.TypeReg:
			if h.Mode != 0o644 {
				t.Errorf("%s: mode %o, want 644 (readable by uid 185, not executable)", h.Name, h.Mode)
			}
			if want := testJars[filepath.Base(h.Name)]; !bytes.Equal(e.data, []byte(want)) {
				t.Errorf("%s holds %q, want %q", h.Name, e.data, want)
			}
		default:
			t.Errorf("%s: type %c", h.Name, h.Typeflag)
		}
	}
	dir := strings.TrimPrefix(deploy.SparkJarDir, "/")
	want := []string{"opt/", "opt/sluice/", dir + "/",
		dir + "/kafka-clients-3.4.1.jar", dir + "/sluice-spark.jar",
		dir + "/spark-cassandra-connector_2.12-3.5.1.jar", dir + "/spark-sql-kafka-0-10_2.12-3.5.7.jar"}
	if !slices.Equal(names, want) {
		t.Errorf("jar layer = %q, want %q", names, want)
	}
	if "/"+dir+"/sluice-spark.jar" != deploy.SparkJobJar {
		t.Errorf("the job jar is not at the contract's %s", deploy.SparkJobJar)
	}

	// The stream image goes into the OCI layout like the Go images.
	out := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(out, first); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations[RefName] != Stream || im.Manifests[0].Digest != img.Digest {
		t.Errorf("layout index %+v", im.Manifests)
	}
	if r := Ref("myacr.azurecr.io", img); r != "myacr.azurecr.io/stream@"+img.Digest.String() {
		t.Errorf("reference %s", r)
	}

	// Another job jar is another image.
	if err := os.WriteFile(filepath.Join(jars, "sluice-spark.jar"), []byte("the job, changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if third := buildStream(t, streamOptions(t, ref, jars)); third[0].Digest == img.Digest {
		t.Error("a changed job jar gives the same digest")
	}
}

func TestStreamImageRefusals(t *testing.T) {
	ctx := context.Background()
	base := standInSparkBase(t)
	ref := serveSparkBase(t, base)
	jars := writeTestJars(t)

	if _, err := Build(ctx, streamOptions(t, "", jars)); !errors.Is(err, ErrNoSparkBase) {
		t.Errorf("stream without a Spark base: %v, want ErrNoSparkBase", err)
	}
	byTag := strings.SplitN(ref, "@", 2)[0]
	if _, err := Build(ctx, streamOptions(t, byTag, jars)); err == nil || !strings.Contains(err.Error(), "not pinned by digest") {
		t.Errorf("a Spark base by tag: %v", err)
	}
	if _, err := Build(ctx, streamOptions(t, ref, "")); err == nil || !strings.Contains(err.Error(), "devservices spark-image") {
		t.Errorf("no jar folder: %v", err)
	}
	noJob := t.TempDir()
	if err := os.WriteFile(filepath.Join(noJob, "kafka-clients-3.4.1.jar"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(ctx, streamOptions(t, ref, noJob)); err == nil || !strings.Contains(err.Error(), "no job jar sluice-spark.jar") {
		t.Errorf("a jar folder without the job jar: %v", err)
	}
	o := streamOptions(t, ref, jars)
	o.Workloads = []string{"spark"}
	if _, err := Build(ctx, o); err == nil || !strings.Contains(err.Error(), `unknown workload "spark"`) {
		t.Errorf("an unknown workload: %v", err)
	}

	// A base without an entrypoint is not Spark's image.
	bare, err := mutate.Config(base, v1.Config{User: "185"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AssembleStream(bare, "bare@sha256:"+strings.Repeat("0", 64), []Jar{{Name: "sluice-spark.jar"}}, testOptionsFor(Stream)); err == nil || !strings.Contains(err.Error(), "no entrypoint") {
		t.Errorf("a base without an entrypoint: %v", err)
	}
	for _, bad := range [][]Jar{
		{{Name: "kafka-clients.jar"}},
		{{Name: "sluice-spark.jar"}, {Name: "../x.jar"}},
		{{Name: "sluice-spark.jar"}, {Name: "sluice-spark.jar"}},
		{{Name: "sluice-spark.jar"}, {Name: "notes.txt"}},
	} {
		if _, err := AssembleStream(base, ref, bad, testOptionsFor(Stream)); err == nil {
			t.Errorf("jars %v accepted", bad)
		}
	}
}

func TestNamesAndPinnedRefs(t *testing.T) {
	o := Options{}
	if got := o.Names(); !slices.Equal(got, Workloads) {
		t.Errorf("default names without a Spark base = %q, want the Go workloads", got)
	}
	o.SparkBase = "apache/spark@sha256:" + strings.Repeat("a", 64)
	if got := o.Names(); !slices.Equal(got, deploy.Images()) {
		t.Errorf("default names with a Spark base = %q, want %q", got, deploy.Images())
	}
	o.Workloads = []string{"api"}
	if got := o.Names(); !slices.Equal(got, []string{"api"}) {
		t.Errorf("explicit names = %q", got)
	}
	for _, ok := range []string{
		"apache/spark@sha256:" + strings.Repeat("a", 64),
		"apache/spark:3.5.7-scala2.12-java17-ubuntu@sha256:" + strings.Repeat("0", 64),
		"myacr.azurecr.io/mirror/spark@sha256:" + strings.Repeat("f", 64),
	} {
		if err := PinnedRef(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "apache/spark", "apache/spark:3.5.7-scala2.12-java17-ubuntu",
		"apache/spark@sha256:" + strings.Repeat("a", 63),
		"apache/spark@sha256:" + strings.Repeat("A", 64),
		"Apache/Spark@sha256:" + strings.Repeat("a", 64),
	} {
		if err := PinnedRef(bad); err == nil {
			t.Errorf("%q accepted as pinned", bad)
		}
	}
}

func TestStreamWithGoImages(t *testing.T) {
	o := streamOptions(t, serveSparkBase(t, standInSparkBase(t)), writeTestJars(t))
	o.Workloads = []string{Stream, "migrate"}
	imgs := buildStream(t, o)
	if len(imgs) != 2 || imgs[0].Name != Stream || imgs[1].Name != "migrate" {
		t.Fatalf("built %v, want stream then migrate (the order asked for)", imgs)
	}
	cf, err := imgs[1].Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != User || !slices.Equal(cf.Config.Entrypoint, []string{"/migrate"}) {
		t.Errorf("migrate beside stream: user %q entrypoint %q", cf.Config.User, cf.Config.Entrypoint)
	}
}
