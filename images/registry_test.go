package images

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/sluicehq/sluice/images/acr"
)

// testCABundle writes a PEM bundle with one self-signed certificate, so the
// offline base can be built without the host's bundle.
func testCABundle(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test root"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4_000_000_000, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func testBase(t *testing.T) v1.Image {
	t.Helper()
	goroot, err := GoEnv(context.Background(), goBin(t), "GOROOT")
	if err != nil {
		t.Fatal(err)
	}
	base, err := OfflineBase(testCABundle(t), filepath.Join(goroot, "lib", "time", "zoneinfo.zip"), testCreated)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// fakeACR is an in-memory registry that, like ACR, answers /oauth2/exchange
// and accepts only the null user with the refresh token it issued.
type fakeACR struct {
	srv       *httptest.Server
	host      string
	exchanges atomic.Int32
	refused   atomic.Int32
}

const issuedRefreshToken = "acr-refresh-token"

func newFakeACR(t *testing.T) *fakeACR {
	f := &fakeACR{}
	reg := registry.New()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth2/exchange" {
			f.exchanges.Add(1)
			if err := r.ParseForm(); err != nil || r.PostForm.Get("access_token") != "entra-access-token" || r.PostForm.Get("service") != f.host {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"refresh_token": issuedRefreshToken})
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || user != acr.NullUser || pass != issuedRefreshToken {
			f.refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="fake acr"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.host = strings.TrimPrefix(f.srv.URL, "http://")
	return f
}

type staticCredential string

func (s staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestPushWithACRAuthentication(t *testing.T) {
	f := newFakeACR(t)
	base := testBase(t)
	var imgs []Image
	for _, n := range []string{"ingest", "api"} {
		img, err := Assemble(base, "", n, []byte("not really "+n), testOptionsFor(n))
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, Image{Name: n, Image: img, Digest: d})
	}
	auth := &acr.Authenticator{Registry: f.host, Credential: staticCredential("entra-access-token"), Endpoint: f.srv.URL, Client: f.srv.Client()}
	ctx := context.Background()
	refs, err := Push(ctx, f.host, Tag(testVersion), imgs, auth)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if f.exchanges.Load() != 1 {
		t.Errorf("%d token exchanges for one push, want 1 (the refresh token is cached)", f.exchanges.Load())
	}
	digests := filepath.Join(t.TempDir(), "digests.json")
	if err := WriteDigests(digests, refs); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(digests)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]string
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		want := f.host + "/" + img.Name + "@" + img.Digest.String()
		if back[img.Name] != want {
			t.Errorf("digests.json[%s] = %q, want %q", img.Name, back[img.Name], want)
		}
		ref, err := name.NewDigest(want, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		pulled, err := remote.Image(ref, remote.WithAuth(auth))
		if err != nil {
			t.Fatalf("pull %s: %v", want, err)
		}
		if d, _ := pulled.Digest(); d != img.Digest {
			t.Errorf("pulled %s as %s", want, d)
		}
		tag, err := name.NewTag(f.host+"/"+img.Name+":"+Tag(testVersion), name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(tag, remote.WithAuth(auth))
		if err != nil || desc.Digest != img.Digest {
			t.Errorf("tag %s points at %v (%v), want %s", tag, desc, err, img.Digest)
		}
	}
	// Without the exchanged token the registry refuses.
	before := f.refused.Load()
	anon, _ := name.NewDigest(refs["ingest"], name.Insecure)
	if _, err := remote.Image(anon, remote.WithAuth(authn.Anonymous)); err == nil {
		t.Error("anonymous pull succeeded; the fake registry does not check credentials")
	}
	if f.refused.Load() == before {
		t.Error("the anonymous pull was not refused by the registry")
	}
}

func testOptionsFor(workload string) map[string]string {
	return Options{Version: testVersion, Revision: testRevision, Source: testSource, Created: testCreated}.labels(workload)
}

func TestReleaseBase(t *testing.T) {
	reg := httptest.NewServer(registry.New())
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	base := testBase(t)
	tag, err := name.NewTag(host+"/distroless/static:nonroot", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, base); err != nil {
		t.Fatal(err)
	}
	baseDigest, err := base.Digest()
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, "migrate")
	o.BaseImage = tag.Tag("").Context().Name() + ":nonroot"
	if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "not pinned by digest") {
		t.Fatalf("a base image by tag was accepted: %v", err)
	}
	o.BaseImage = host + "/distroless/static@" + baseDigest.String()
	imgs := build(t, o)
	img := imgs[0]
	checkOneLayerOn(t, base, img.Image)
	m, err := img.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Annotations[LabelBaseName] != o.BaseImage || m.Annotations[LabelBaseDigest] != baseDigest.String() {
		t.Errorf("base annotations %q %q", m.Annotations[LabelBaseName], m.Annotations[LabelBaseDigest])
	}
	cf, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != User || cf.Config.Entrypoint[0] != "/migrate" {
		t.Errorf("config on the release base: user %q entrypoint %q", cf.Config.User, cf.Config.Entrypoint)
	}
}

// checkOneLayerOn fails unless img is base's layers plus exactly one, and
// returns img's layers.
func checkOneLayerOn(t *testing.T, base, img v1.Image) []v1.Layer {
	t.Helper()
	baseLayers, err := base.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != len(baseLayers)+1 {
		t.Fatalf("%d layers on a %d-layer base, want one more", len(layers), len(baseLayers))
	}
	for i, bl := range baseLayers {
		want, _ := bl.Digest()
		if got, _ := layers[i].Digest(); got != want {
			t.Errorf("layer %d is %s, want the base's %s", i, got, want)
		}
	}
	return layers
}
