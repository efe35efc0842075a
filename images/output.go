package images

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// WriteLayout replaces dir with an OCI image layout holding imgs, one
// manifest each, annotated org.opencontainers.image.ref.name=<name>. It
// writes to a sibling directory first and swaps it in, so a failed write
// leaves the previous layout intact and no stale blobs accumulate.
func WriteLayout(dir string, imgs []Image) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("clear %s: %w", tmp, err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("layout parent: %w", err)
	}
	p, err := layout.Write(tmp, mutate.IndexMediaType(empty.Index, types.OCIImageIndex))
	if err != nil {
		return fmt.Errorf("create OCI layout: %w", err)
	}
	for _, img := range imgs {
		if err := p.AppendImage(img.Image, layout.WithAnnotations(map[string]string{RefName: img.Name}), layout.WithPlatform(Platform)); err != nil {
			return fmt.Errorf("write %s to the OCI layout: %w", img.Name, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("replace %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("replace %s: %w", dir, err)
	}
	return nil
}

var registryPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$`)

// ValidRegistry checks a registry host ("x.azurecr.io", "127.0.0.1:5000").
func ValidRegistry(registry string) error {
	if !registryPattern.MatchString(registry) {
		return fmt.Errorf("registry %q is not a host name (like myacr.azurecr.io)", registry)
	}
	return nil
}

// Ref is the digest reference of an image in registry:
// "<registry>/<name>@sha256:<hex>", or "<name>@sha256:<hex>" without one.
func Ref(registry string, img Image) string {
	if registry == "" {
		return img.Name + "@" + img.Digest.String()
	}
	return registry + "/" + img.Name + "@" + img.Digest.String()
}

var tagInvalid = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Tag turns a version into a valid image tag ("1.2.0+abc" -> "1.2.0-abc").
func Tag(version string) string {
	t := tagInvalid.ReplaceAllString(version, "-")
	t = strings.TrimLeft(t, ".-")
	if len(t) > 128 {
		t = t[:128]
	}
	if t == "" {
		t = "latest"
	}
	return t
}

// Push writes every image to registry as <registry>/<name>:<tag> and
// returns the digest references by workload name. Registries on the
// loopback interface are reached over plain HTTP (tests); all others over
// TLS.
func Push(ctx context.Context, registry, tag string, imgs []Image, auth authn.Authenticator) (map[string]string, error) {
	if err := ValidRegistry(registry); err != nil {
		return nil, err
	}
	refs := map[string]string{}
	for _, img := range imgs {
		target := registry + "/" + img.Name + ":" + tag
		ref, err := name.NewTag(target, nameOptions(target)...)
		if err != nil {
			return nil, fmt.Errorf("image reference %s: %w", target, err)
		}
		if err := remote.Write(ref, img.Image, remote.WithContext(ctx), remote.WithAuth(auth), remote.WithUserAgent("sluice-imagebuild")); err != nil {
			return nil, fmt.Errorf("push %s: %w", target, err)
		}
		refs[img.Name] = Ref(registry, img)
	}
	return refs, nil
}

// WriteDigests writes refs as the JSON object delivery reads (workload
// name → "<registry>/<name>@sha256:<hex>"), keys sorted, to path.
func WriteDigests(path string, refs map[string]string) error {
	// encoding/json writes map keys sorted.
	b, err := json.MarshalIndent(refs, "", "  ")
	if err != nil {
		return fmt.Errorf("encode digests: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("digests dir: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write digests: %w", err)
	}
	return nil
}
