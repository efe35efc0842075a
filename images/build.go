package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// OCI annotation and label keys.
const (
	LabelSource     = "org.opencontainers.image.source"
	LabelRevision   = "org.opencontainers.image.revision"
	LabelVersion    = "org.opencontainers.image.version"
	LabelCreated    = "org.opencontainers.image.created"
	LabelTitle      = "org.opencontainers.image.title"
	LabelBaseName   = "org.opencontainers.image.base.name"
	LabelBaseDigest = "org.opencontainers.image.base.digest"
	// RefName names a manifest in an OCI layout's index.
	RefName = "org.opencontainers.image.ref.name"
)

// Options say what to build and how.
type Options struct {
	// Root is the module root (the directory holding go.mod).
	Root string
	// Workloads to build: names of Workloads and Stream. Empty means all
	// of Workloads, and Stream too when SparkBase is set.
	Workloads []string
	// Version, Revision and Source fill the labels and version.Version /
	// version.Revision; Created is the time every file and the config
	// carry (SOURCE_DATE_EPOCH).
	Version  string
	Revision string
	Source   string
	Created  time.Time
	// BaseImage, when set, is the release base pinned by digest; empty
	// means the offline base (CABundle, ZoneInfo).
	BaseImage string
	// BaseAuth authenticates the base pull; nil is anonymous.
	BaseAuth authn.Authenticator
	// SparkBase is the stream image's base, Apache Spark's image pinned
	// by digest ("apache/spark:<tag>@sha256:<64 hex>"); the stream image
	// cannot be built without it. SparkBaseAuth authenticates its pull
	// (nil is anonymous).
	SparkBase     string
	SparkBaseAuth authn.Authenticator
	// SparkJars is the folder whose *.jar files go to deploy.SparkJarDir:
	// the job jar and the jars Spark's distribution does not ship
	// (`devservices spark-image` writes it; see ReadJars).
	SparkJars string
	// CABundle is the host file the offline base copies (DefaultCABundle
	// when empty); ZoneInfo is a zoneinfo.zip (the Go toolchain's when
	// empty).
	CABundle string
	ZoneInfo string
	// GoBin is the go command ("go" when empty).
	GoBin string
	// BinDir receives the compiled binaries; a temporary directory,
	// removed afterwards, when empty.
	BinDir string
}

// Image is one built workload image.
type Image struct {
	Name   string
	Image  v1.Image
	Digest v1.Hash
	// Binary is the compiled binary on the host (in Options.BinDir; gone
	// after Build when BinDir was empty); empty for Stream.
	Binary string
}

// ErrNoSparkBase is returned when the stream image is asked for without
// Options.SparkBase.
var ErrNoSparkBase = errors.New("the stream image needs Apache Spark's image pinned by digest as its base (apache/spark:<tag>@sha256:<digest>)")

// Names are the images o builds, in order: o.Workloads, or by default
// Workloads followed by Stream when SparkBase is set.
func (o Options) Names() []string {
	if len(o.Workloads) > 0 {
		return o.Workloads
	}
	names := append([]string(nil), Workloads...)
	if o.SparkBase != "" {
		names = append(names, Stream)
	}
	return names
}

// Build compiles the workloads and assembles their images, in the order
// of Names.
func Build(ctx context.Context, o Options) ([]Image, error) {
	if o.Root == "" {
		return nil, errors.New("build images: no module root")
	}
	if o.Source == "" || o.Version == "" || o.Revision == "" {
		return nil, errors.New("build images: source, version and revision are required")
	}
	var goNames []string
	stream := false
	for _, n := range o.Names() {
		switch {
		case n == Stream:
			stream = true
		case isWorkload(n):
			goNames = append(goNames, n)
		default:
			return nil, fmt.Errorf("unknown workload %q (want one of %s)", n, strings.Join(deploy.Images(), ", "))
		}
	}
	var streamImg *Image
	if stream {
		img, err := o.buildStream(ctx)
		if err != nil {
			return nil, err
		}
		streamImg = &img
	}
	var out []Image
	if len(goNames) > 0 {
		var err error
		if out, err = o.buildGo(ctx, goNames); err != nil {
			return nil, err
		}
	}
	if streamImg != nil {
		// Put the stream image where it was asked for.
		at := len(out)
		for i, n := range o.Names() {
			if n == Stream {
				at = i
				break
			}
		}
		out = append(out[:at], append([]Image{*streamImg}, out[at:]...)...)
	}
	return out, nil
}

// buildStream assembles the stream image from SparkBase and SparkJars.
// Both are checked before the base is pulled.
func (o Options) buildStream(ctx context.Context) (Image, error) {
	if o.SparkBase == "" {
		return Image{}, ErrNoSparkBase
	}
	if err := PinnedRef(o.SparkBase); err != nil {
		return Image{}, fmt.Errorf("spark base: %w", err)
	}
	jars, err := ReadJars(o.SparkJars)
	if err != nil {
		return Image{}, err
	}
	base, err := PullBase(ctx, o.SparkBase, o.SparkBaseAuth)
	if err != nil {
		return Image{}, err
	}
	img, err := AssembleStream(base, o.SparkBase, jars, o.labels(Stream))
	if err != nil {
		return Image{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return Image{}, fmt.Errorf("digest of %s: %w", Stream, err)
	}
	return Image{Name: Stream, Image: img, Digest: d}, nil
}

// buildGo compiles the Go workloads names and assembles their images.
func (o Options) buildGo(ctx context.Context, names []string) ([]Image, error) {
	goBin := o.GoBin
	if goBin == "" {
		goBin = "go"
	}
	base, baseName, err := o.base(ctx, goBin)
	if err != nil {
		return nil, err
	}
	binDir := o.BinDir
	if binDir == "" {
		tmp, err := os.MkdirTemp("", "sluice-images-")
		if err != nil {
			return nil, fmt.Errorf("build images: %w", err)
		}
		defer os.RemoveAll(tmp)
		binDir = tmp
	}
	if err := GoBuild(ctx, goBin, o.Root, binDir, names, o.Version, o.Revision); err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(names))
	for _, n := range names {
		bin := filepath.Join(binDir, n)
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, fmt.Errorf("read %s binary: %w", n, err)
		}
		img, err := Assemble(base, baseName, n, data, o.labels(n))
		if err != nil {
			return nil, err
		}
		d, err := img.Digest()
		if err != nil {
			return nil, fmt.Errorf("digest of %s: %w", n, err)
		}
		out = append(out, Image{Name: n, Image: img, Digest: d, Binary: bin})
	}
	return out, nil
}

func (o Options) base(ctx context.Context, goBin string) (v1.Image, string, error) {
	if o.BaseImage != "" {
		img, err := PullBase(ctx, o.BaseImage, o.BaseAuth)
		return img, o.BaseImage, err
	}
	ca := o.CABundle
	if ca == "" {
		ca = DefaultCABundle
	}
	zi := o.ZoneInfo
	if zi == "" {
		goroot, err := GoEnv(ctx, goBin, "GOROOT")
		if err != nil {
			return nil, "", err
		}
		zi = filepath.Join(goroot, "lib", "time", "zoneinfo.zip")
	}
	img, err := OfflineBase(ca, zi, o.Created)
	return img, "", err
}

// labels are a workload's labels and manifest annotations.
func (o Options) labels(workload string) map[string]string {
	return map[string]string{
		LabelSource:   o.Source,
		LabelRevision: o.Revision,
		LabelVersion:  o.Version,
		LabelCreated:  o.Created.UTC().Format(time.RFC3339),
		LabelTitle:    "sluice-" + workload,
	}
}

// Assemble puts binary at /<workload> on top of base and sets the config:
// user 65532:65532, entrypoint /<workload>, working directory /, labels.
// baseName, when set, is recorded as the base image's name and digest.
func Assemble(base v1.Image, baseName, workload string, binary []byte, labels map[string]string) (v1.Image, error) {
	return appendLayer(base, baseName, workload, []File{{Path: "/" + workload, Mode: 0o755, Data: binary}}, labels,
		"sluice images: /"+workload+" (go build -trimpath, CGO_ENABLED=0)", func(cf *v1.ConfigFile) {
			cf.OS, cf.Architecture = Platform.OS, Platform.Architecture
			cf.Config.User = User
			cf.Config.Entrypoint = []string{"/" + workload}
			cf.Config.Cmd = nil
			cf.Config.WorkingDir = "/"
		})
}

// appendLayer is what every image of this package is: base plus one layer
// of files, all stamped with labels[LabelCreated], a history entry
// createdBy, the config base's changed by configure and carrying labels,
// OCI media types, and labels (and, with baseName, the base's name and
// digest) as manifest annotations.
func appendLayer(base v1.Image, baseName, name string, files []File, labels map[string]string, createdBy string, configure func(*v1.ConfigFile)) (v1.Image, error) {
	created, err := time.Parse(time.RFC3339, labels[LabelCreated])
	if err != nil {
		return nil, fmt.Errorf("assemble %s: created label: %w", name, err)
	}
	l := NewLayer()
	for _, f := range files {
		if err := l.Add(f); err != nil {
			return nil, err
		}
	}
	layer, err := l.Image(created)
	if err != nil {
		return nil, fmt.Errorf("assemble %s: %w", name, err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: created.UTC()}, CreatedBy: createdBy},
	})
	if err != nil {
		return nil, fmt.Errorf("assemble %s: %w", name, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("assemble %s: config: %w", name, err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created.UTC()}
	configure(cf)
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	annotations := map[string]string{}
	for k, v := range labels {
		cf.Config.Labels[k] = v
		annotations[k] = v
	}
	if baseName != "" {
		d, err := base.Digest()
		if err != nil {
			return nil, fmt.Errorf("assemble %s: base digest: %w", name, err)
		}
		annotations[LabelBaseName] = baseName
		annotations[LabelBaseDigest] = d.String()
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("assemble %s: config: %w", name, err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	annotated, ok := mutate.Annotations(img, annotations).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("assemble %s: annotations did not keep an image", name)
	}
	return annotated, nil
}
