// Package imagestest serves images to the images tool's tests from an
// in-process registry, so pulls by digest are tested without a network.
package imagestest

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Serve pushes img as repoTag ("apache/spark:3.5.7") to a registry that
// lives until the test ends and returns its reference pinned by digest
// ("127.0.0.1:<port>/apache/spark:3.5.7@sha256:…").
func Serve(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	tag, err := name.NewTag(strings.TrimPrefix(reg.URL, "http://")+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return tag.String() + "@" + d.String()
}
