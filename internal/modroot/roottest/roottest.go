// Package roottest gives tests the repository root (where go.mod and
// Pulumi.yaml are), failing the test when there is none: the one helper
// instead of a copy in every test package. It is apart from modroot so that
// binaries using modroot do not link package testing.
package roottest

import (
	"testing"

	"github.com/sluicehq/sluice/internal/modroot"
)

// Root is the root of the module the test runs in.
func Root(tb testing.TB) string {
	tb.Helper()
	root, err := modroot.Find(".")
	if err != nil {
		tb.Fatalf("repository root: %v", err)
	}
	return root
}
