// Command bench runs Sluice's benchmarks against the real local engines.
// Each benchmark measures its baseline in the same run and prints a table
// and exactly one JSON line starting with {"bench":"<name>"}.
//
//	bench ingest [-events N]
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

// local is the running local engines a benchmark uses.
type local struct {
	m    *devservices.Manager
	home string // the .sluice folder
	ep   devservices.Endpoints
	// env is the workloads' environment for the engines; Cassandra is
	// read and written at ONE, as befits a single node.
	env map[string]string
}

// startLocal brings the engines up (idempotently) and describes them.
// BenchKeyspace holds every benchmark's Cassandra tables.
const BenchKeyspace = "sluice_bench"

func startLocal(ctx context.Context, engines ...devservices.Engine) (*local, error) {
	m, err := devservices.New("")
	if err != nil {
		return nil, err
	}
	if err := m.Up(ctx, engines...); err != nil {
		return nil, err
	}
	home, err := devservices.DiscoverHome("")
	if err != nil {
		return nil, err
	}
	ep := devservices.LocalEndpoints()
	env := map[string]string{}
	for _, kv := range ep.Env() {
		env[kv[0]] = kv[1]
	}
	env["CASSANDRA_CONSISTENCY"] = "ONE"
	// Benchmarks write millions of rows; their own keyspace keeps them
	// out of the demo's tables and its change feed's outbox.
	env["CASSANDRA_KEYSPACE"] = BenchKeyspace
	return &local{m: m, home: home, ep: ep, env: env}, nil
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
