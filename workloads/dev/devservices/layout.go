package devservices

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluicehq/sluice/internal/modroot"
)

// HomeEnv overrides where the tool keeps everything (default: .sluice at the
// repository root).
const HomeEnv = "SLUICE_HOME"

// CacheEnv optionally moves the download cache (Maven repository and jars)
// out of the home folder, so fresh clones on one machine (CI) share it.
const CacheEnv = "SLUICE_CACHE_DIR"

// Layout is the folder tree under the home folder (.sluice):
//
//	cache/m2                      Maven local repository
//	cache/<engine>-<version>/lib  the engine's jars
//	data/<engine>                 the engine's data; data/<engine>/conf its generated config
//	logs/<engine>.log             the engine's stdout and stderr
//	run/<engine>.pid              pid and start time of the running engine
//
// Cache, when set, replaces <home>/cache.
type Layout struct {
	Home  string
	Cache string
}

// DiscoverHome returns $SLUICE_HOME if set, else .sluice in the nearest
// directory at or above dir that holds go.mod.
func DiscoverHome(dir string) (string, error) {
	if h := os.Getenv(HomeEnv); h != "" {
		abs, err := filepath.Abs(h)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", HomeEnv, err)
		}
		return abs, nil
	}
	root, err := findModuleRoot(dir)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".sluice"), nil
}

func findModuleRoot(dir string) (string, error) {
	root, err := modroot.Find(dir)
	if err != nil {
		return "", fmt.Errorf("%w: run inside the repository or set %s", err, HomeEnv)
	}
	return root, nil
}

// CacheDir holds downloaded artifacts.
func (l Layout) CacheDir() string {
	if l.Cache != "" {
		return l.Cache
	}
	return filepath.Join(l.Home, "cache")
}

// MavenRepo is the Maven local repository passed as -Dmaven.repo.local.
func (l Layout) MavenRepo() string { return filepath.Join(l.CacheDir(), "m2") }

// ArtifactDir holds the generated pom and the copied jars of one engine version.
func (l Layout) ArtifactDir(e Engine, version string) string {
	return filepath.Join(l.CacheDir(), string(e)+"-"+version)
}

// DataRoot holds every engine's data.
func (l Layout) DataRoot() string { return filepath.Join(l.Home, "data") }

// DataDir holds one engine's data.
func (l Layout) DataDir(e Engine) string { return filepath.Join(l.DataRoot(), string(e)) }

// ConfDir holds one engine's generated configuration.
func (l Layout) ConfDir(e Engine) string { return filepath.Join(l.DataDir(e), "conf") }

// LogDir holds the engines' logs.
func (l Layout) LogDir() string { return filepath.Join(l.Home, "logs") }

// LogFile is where an engine's output goes.
func (l Layout) LogFile(e Engine) string { return filepath.Join(l.LogDir(), string(e)+".log") }

// RunDir holds pid files, the lock and the PostgreSQL socket directory.
func (l Layout) RunDir() string { return filepath.Join(l.Home, "run") }

// PidFile records the running engine's pid.
func (l Layout) PidFile(e Engine) string { return filepath.Join(l.RunDir(), string(e)+".pid") }

// LockFile serialises managers of the same home across processes.
func (l Layout) LockFile() string { return filepath.Join(l.RunDir(), "devservices.lock") }

// BinDir is where the Makefile puts the built CLI.
func (l Layout) BinDir() string { return filepath.Join(l.Home, "bin") }

func (l Layout) ensureBase() error {
	for _, d := range []string{l.Home, l.CacheDir(), l.DataRoot(), l.LogDir(), l.RunDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}
