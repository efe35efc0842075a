package envcheck

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/api"
	"github.com/sluicehq/sluice/workloads/internal/changefeed"
	"github.com/sluicehq/sluice/workloads/internal/enrich"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/ingest"
	"github.com/sluicehq/sluice/workloads/internal/logging"
	"github.com/sluicehq/sluice/workloads/internal/migrateconfig"
)

// runtimeEnv are variables every workload binary reads outside its
// ConfigFromEnv: the log level (logging.Setup), the CPU profile
// (service.Main) and the Go runtime's.
var runtimeEnv = []string{logging.LevelEnv, deploy.EnvCPUProfile, "GOGC", "GOMEMLIMIT", "GOMAXPROCS"}

// Workloads are the names Load knows, as the program names its containers.
var Workloads = []string{"ingest", "changefeed", "api", "enrich", "migrate"}

// Load loads env as workload's configuration with its default arguments.
func Load(workload string, env map[string]string) error {
	return LoadArgs(workload, nil, env)
}

// LoadArgs loads env as workload's configuration, migrate's with args (its
// command-line flags) and enrich's seed step with its ("seed", flags...);
// the other workloads take none. It fails when the
// loader reports a problem or when a variable of env is never read.
func LoadArgs(workload string, args []string, env map[string]string) error {
	read := map[string]bool{}
	for _, k := range runtimeEnv {
		read[k] = true
	}
	r := envconfig.NewFrom(func(k string) (string, bool) {
		read[k] = true
		v, ok := env[k]
		return v, ok
	})
	var err error
	switch workload {
	case "ingest":
		_, err = ingest.ConfigFromEnv(r)
	case "changefeed":
		_, err = changefeed.ConfigFromEnv(r)
	case "api":
		_, err = api.ConfigFromEnv(r)
	case "enrich":
		if len(args) > 0 && args[0] == "seed" {
			_, err = enrich.SeedConfigFromEnv(r, args[1:], io.Discard)
			args = nil
		} else {
			_, err = enrich.ConfigFromEnv(r)
		}
	case "migrate":
		flags, ferr := migrateconfig.ParseFlags(args, io.Discard)
		if ferr != nil {
			return fmt.Errorf("migrate arguments %q: %w", args, ferr)
		}
		_, err = migrateconfig.ConfigFromEnv(r, flags)
	default:
		return fmt.Errorf("envcheck: unknown workload %q (known: %s)", workload, strings.Join(Workloads, ", "))
	}
	if workload != "migrate" && len(args) > 0 {
		return fmt.Errorf("%s: takes no arguments, got %q", workload, args)
	}
	var unread []string
	for k := range env {
		if !read[k] {
			unread = append(unread, k)
		}
	}
	sort.Strings(unread)
	switch {
	case err != nil && len(unread) > 0:
		return fmt.Errorf("%s: %w; never reads %s (renamed or unused)", workload, err, strings.Join(unread, ", "))
	case err != nil:
		return fmt.Errorf("%s: %w", workload, err)
	case len(unread) > 0:
		return fmt.Errorf("%s: never reads %s (renamed or unused)", workload, strings.Join(unread, ", "))
	}
	return nil
}
