package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
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
	// Workloads to build; empty means all of Workloads.
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
	// after Build when BinDir was empty).
	Binary string
}

// Build compiles the workloads and assembles their images.
func Build(ctx context.Context, o Options) ([]Image, error) {
	if o.Root == "" {
		return nil, errors.New("build images: no module root")
	}
	if o.Source == "" || o.Version == "" || o.Revision == "" {
		return nil, errors.New("build images: source, version and revision are required")
	}
	names := o.Workloads
	if len(names) == 0 {
		names = Workloads
	}
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
	created, err := time.Parse(time.RFC3339, labels[LabelCreated])
	if err != nil {
		return nil, fmt.Errorf("assemble %s: created label: %w", workload, err)
	}
	app := NewLayer()
	if err := app.Add(File{Path: "/" + workload, Mode: 0o755, Data: binary}); err != nil {
		return nil, err
	}
	layer, err := app.Image(created)
	if err != nil {
		return nil, fmt.Errorf("assemble %s: %w", workload, err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: created.UTC()},
			CreatedBy: "sluice images: /" + workload + " (go build -trimpath, CGO_ENABLED=0)",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("assemble %s: %w", workload, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("assemble %s: config: %w", workload, err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = Platform.OS, Platform.Architecture
	cf.Created = v1.Time{Time: created.UTC()}
	cf.Config.User = User
	cf.Config.Entrypoint = []string{"/" + workload}
	cf.Config.Cmd = nil
	cf.Config.WorkingDir = "/"
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
			return nil, fmt.Errorf("assemble %s: base digest: %w", workload, err)
		}
		annotations[LabelBaseName] = baseName
		annotations[LabelBaseDigest] = d.String()
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("assemble %s: config: %w", workload, err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	annotated, ok := mutate.Annotations(img, annotations).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("assemble %s: annotations did not keep an image", workload)
	}
	return annotated, nil
}
