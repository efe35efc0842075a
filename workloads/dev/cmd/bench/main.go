// Command bench runs Sluice's benchmarks against the real local engines.
// Each benchmark measures its baseline in the same run and prints a table
// and exactly one JSON line starting with {"bench":"<name>"}.
//
//	bench ingest [-events N] [-concurrency C] [-replicas R] [-cpuprofile FILE]
//	bench spark [-events N] [-rate R] [-duration D] [-trigger T]
//	bench e2e [-rate R] [-duration D] [-cold]
//
// bench e2e -cold restarts the engines it uses, which others may share:
// whoever runs it holds the engines lock exclusively (a benchmark process
// cannot take it for its own engines without them inheriting it).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

// benchmarks maps a name to its entry point; each lives in its own file.
var benchmarks = map[string]func(args []string) error{}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if len(os.Args) < 2 || benchmarks[os.Args[1]] == nil {
		names := make([]string, 0, len(benchmarks))
		for n := range benchmarks {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: bench <%s> [flags]\n", strings.Join(names, "|"))
		os.Exit(2)
	}
	if err := benchmarks[os.Args[1]](os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "bench %s failed: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// BenchKeyspace holds every benchmark's Cassandra tables.
const BenchKeyspace = "sluice_bench"

// local is the running local engines a benchmark uses.
type local struct {
	*localrun.Local
	logs string // the .sluice/logs folder
	// env is the workloads' environment for the engines; Cassandra is
	// read and written at ONE, as befits a single node.
	env []string
}

// startLocal brings the engines up (idempotently) and describes them.
func startLocal(ctx context.Context, engines ...devservices.Engine) (*local, error) {
	lc, err := localrun.Up(ctx, engines...)
	if err != nil {
		return nil, err
	}
	logs, err := lc.LogDir()
	if err != nil {
		return nil, err
	}
	// Benchmarks write millions of rows; their own keyspace keeps them
	// out of the demo's tables and its change feed's outbox, and their
	// own Redis database out of the demo's live page.
	lc.Endpoints.RedisDB = devservices.BenchRedisDB
	return &local{Local: lc, logs: logs, env: localrun.Env(lc.Endpoints, "CASSANDRA_KEYSPACE="+BenchKeyspace)}, nil
}

// reader reads the benchmark's environment plus extra (KEY=value) the way
// the workloads read theirs.
func (l *local) reader(extra ...string) *envconfig.Reader {
	return envconfig.NewFrom(localrun.Lookup(append(append([]string(nil), l.env...), extra...)))
}

// launcher runs bin's workloads with the benchmark's environment plus
// extra, logging to .sluice/logs/<prefix><name>.log.
func (l *local) launcher(bin, prefix string, extra ...string) *localrun.Launcher {
	return &localrun.Launcher{Bin: bin, Logs: l.logs, LogPrefix: prefix, Env: append(append([]string(nil), l.env...), extra...)}
}

// row is one line of a result table.
type row struct {
	name  string
	value string
}

// report prints the table, then the JSON line; fields keep their order.
func report(bench string, rows []row, fields [][2]any) error {
	fmt.Println()
	for _, r := range rows {
		fmt.Printf("  %-46s %14s\n", r.name, r.value)
	}
	var b strings.Builder
	b.WriteString(`{"bench":`)
	name, _ := json.Marshal(bench)
	b.Write(name)
	for _, f := range fields {
		k, err := json.Marshal(f[0])
		if err != nil {
			return err
		}
		v, err := json.Marshal(f[1])
		if err != nil {
			return err
		}
		b.WriteString(",")
		b.Write(k)
		b.WriteString(":")
		b.Write(v)
	}
	b.WriteString("}")
	fmt.Println(b.String())
	return nil
}
