package images

import (
	"archive/zip"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The non-root user every image runs as (the same ids distroless uses).
const (
	NonRootUID  = 65532
	NonRootName = "nonroot"
	// User is the image config's user, "uid:gid".
	User = "65532:65532"
)

// Paths the offline base provides.
const (
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	ZoneInfoDir  = "/usr/share/zoneinfo"
)

// DefaultCABundle is where Debian's ca-certificates package keeps the
// bundle the offline base copies.
const DefaultCABundle = "/etc/ssl/certs/ca-certificates.crt"

// Platform is the only platform the images are built for.
var Platform = v1.Platform{OS: "linux", Architecture: "amd64"}

var (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group = "root:x:0:\n" +
		"nobody:x:65534:\n" +
		"nonroot:x:65532:\n"
	nsswitch = "hosts: files dns\n"
)

// BaseFiles returns the offline base layer: the CA bundle read from
// caBundle (it must hold at least one parseable certificate), the user
// database, nsswitch.conf, /tmp, the non-root user's home and the zone
// files of the zoneinfo.zip at zoneInfoZip.
func BaseFiles(caBundle, zoneInfoZip string) (*Layer, error) {
	ca, err := os.ReadFile(caBundle)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle (install Debian's ca-certificates or set CA_BUNDLE): %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caBundle)
	}
	l := NewLayer()
	for _, f := range []File{
		{Path: "/etc", Mode: 0o755, Dir: true},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte(passwd)},
		{Path: "/etc/group", Mode: 0o644, Data: []byte(group)},
		{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: []byte(nsswitch)},
		{Path: CABundlePath, Mode: 0o644, Data: ca},
		{Path: "/home/nonroot", Mode: 0o700, UID: NonRootUID, GID: NonRootUID, Dir: true},
		{Path: "/tmp", Mode: 0o1777, Dir: true},
		{Path: ZoneInfoDir, Mode: 0o755, Dir: true},
	} {
		if err := l.Add(f); err != nil {
			return nil, err
		}
	}
	if err := addZoneInfo(l, zoneInfoZip); err != nil {
		return nil, err
	}
	return l, nil
}

// addZoneInfo copies every zone file of Go's zoneinfo.zip under
// /usr/share/zoneinfo, where Go's time package (and everything else) looks.
func addZoneInfo(l *Layer, zipPath string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("open zoneinfo %s: %w", zipPath, err)
	}
	defer zr.Close()
	files := append([]*zip.File(nil), zr.File...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	n := 0
	for _, zf := range files {
		if strings.HasSuffix(zf.Name, "/") {
			continue
		}
		clean := path.Clean("/" + zf.Name)
		if strings.Contains(zf.Name, "..") || clean != "/"+zf.Name {
			return fmt.Errorf("zoneinfo entry %q: unexpected path", zf.Name)
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("zoneinfo entry %s: %w", zf.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		if err != nil {
			return fmt.Errorf("zoneinfo entry %s: %w", zf.Name, err)
		}
		if err := l.Add(File{Path: ZoneInfoDir + clean, Mode: 0o644, Data: data}); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("zoneinfo %s holds no zone files", zipPath)
	}
	return nil
}

// OfflineBase is the base image assembled without a registry: one layer
// (BaseFiles) and a config that runs as the non-root user.
func OfflineBase(caBundle, zoneInfoZip string, created time.Time) (v1.Image, error) {
	files, err := BaseFiles(caBundle, zoneInfoZip)
	if err != nil {
		return nil, err
	}
	layer, err := files.Image(created)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: created.UTC()},
			CreatedBy: "sluice offline base: CA bundle, nonroot user, zoneinfo",
			Comment:   "images.OfflineBase",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("offline base: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("offline base config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = Platform.OS, Platform.Architecture
	cf.Created = v1.Time{Time: created.UTC()}
	cf.Config.User = User
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=" + CABundlePath}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("offline base config: %w", err)
	}
	return img, nil
}

var digestRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// PinnedRef checks that ref is an image reference pinned by digest:
// "name@sha256:<64 hex>" (a tag before the digest is allowed and ignored
// by the pull).
func PinnedRef(ref string) error {
	_, err := pinnedDigest(ref)
	return err
}

func pinnedDigest(ref string) (name.Digest, error) {
	if !digestRef.MatchString(ref) {
		return name.Digest{}, fmt.Errorf("base image %q is not pinned by digest (want name@sha256:<64 hex>)", ref)
	}
	d, err := name.NewDigest(ref, nameOptions(ref)...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("base image %q: %w", ref, err)
	}
	return d, nil
}

// PullBase fetches a release base image for Platform. ref must be pinned by
// digest ("name@sha256:<64 hex>"); a tag alone is refused so that a build
// never changes because a tag moved. auth nil is anonymous access.
func PullBase(ctx context.Context, ref string, auth authn.Authenticator) (v1.Image, error) {
	r, err := pinnedDigest(ref)
	if err != nil {
		return nil, err
	}
	if auth == nil {
		auth = authn.Anonymous
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuth(auth), remote.WithPlatform(Platform))
	if err != nil {
		return nil, fmt.Errorf("pull base image %s: %w", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base image %s config: %w", ref, err)
	}
	if cf.OS != Platform.OS || cf.Architecture != Platform.Architecture {
		return nil, fmt.Errorf("base image %s is %s/%s, want %s/%s", ref, cf.OS, cf.Architecture, Platform.OS, Platform.Architecture)
	}
	return img, nil
}

// nameOptions allows plain HTTP for registries on the loopback interface
// (tests); every other registry is reached over TLS.
func nameOptions(ref string) []name.Option {
	host := ref
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if strings.HasPrefix(host, "127.0.0.1:") || strings.HasPrefix(host, "localhost:") || strings.HasPrefix(host, "[::1]:") {
		return []name.Option{name.Insecure}
	}
	return nil
}
