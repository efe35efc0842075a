package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Module is the Go module the workloads are built from.
const Module = "github.com/sluicehq/sluice"

// versionPackage receives Version and Revision through -ldflags -X.
const versionPackage = Module + "/workloads/internal/version"

// Workloads are the binaries that ship as images, in build order:
// the services, the batch job and the schema migration Job. Local tools
// (simulator, demo, bench, devservices) are not images. The list is the
// deployment contract's (package deploy).
var Workloads = deploy.GoImages()

// stampPattern bounds what goes into -ldflags -X and into image labels.
var stampPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$`)

// GoBuild compiles the workloads' binaries into dir (dir/<name>): static
// (CGO_ENABLED=0) linux/amd64 executables, -trimpath, no VCS stamping, no
// build id, symbols stripped, with version and revision linked in. Only
// these flags and the sources decide the output, so it is the same on
// every machine with the same Go toolchain.
func GoBuild(ctx context.Context, goBin, root, dir string, names []string, version, revision string) error {
	if !stampPattern.MatchString(version) || !stampPattern.MatchString(revision) {
		return fmt.Errorf("version %q and revision %q must match %s", version, revision, stampPattern)
	}
	if len(names) == 0 {
		return errors.New("no workloads to build")
	}
	pkgs := make([]string, len(names))
	for i, n := range names {
		if !isWorkload(n) {
			return fmt.Errorf("unknown workload %q (want one of %s)", n, strings.Join(Workloads, ", "))
		}
		pkgs[i] = "./workloads/cmd/" + n
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("binary dir: %w", err)
	}
	ldflags := fmt.Sprintf("-s -w -buildid= -X %s.Version=%s -X %s.Revision=%s", versionPackage, version, versionPackage, revision)
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", dir + string(filepath.Separator)}
	// One go build for every binary: the packages they share compile once.
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOAMD64=v1",
		// The environment must not change the output: flags are explicit.
		"GOFLAGS=", "GOEXPERIMENT=",
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(names, " "), err, strings.TrimSpace(out.String()))
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("go build produced no %s: %w", n, err)
		}
	}
	return nil
}

func isWorkload(n string) bool {
	for _, w := range Workloads {
		if w == n {
			return true
		}
	}
	return false
}

// GoEnv returns `go env <key>` of goBin.
func GoEnv(ctx context.Context, goBin, key string) (string, error) {
	out, err := exec.CommandContext(ctx, goBin, "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	return strings.TrimSpace(string(out)), nil
}
