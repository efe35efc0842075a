// Command devservices starts, stops and checks the local engines (Kafka,
// Cassandra, PostgreSQL, Redis) that Sluice's workloads and tests run against.
//
//	devservices up [engine...]          start (default: all), wait until healthy and warm
//	devservices warmup [engine...]      run the warm-up on running engines and print its figures
//	devservices down [--purge] [engine...]  stop; --purge also deletes all engine data
//	devservices restart engine...       stop and start again
//	devservices status                  show what runs and answers
//	devservices logs engine [-n N]      print the last N lines of an engine's log
//	devservices env                     print export lines for the endpoints
//	devservices redis-clear-tests       empty the tests' Redis database (never the demo's)
//	devservices spark                   fetch the Spark jar set (once), build the Spark jobs' jar, print both
//	devservices spark-image [-out dir]  as spark, then fill dir with the stream image's jars
//
// spark-image writes what the images tool puts in the stream image's jar
// folder (deploy.SparkJarDir): the job jar and the jars of the local set
// that Apache Spark's distribution does not ship (the Kafka source, the
// Cassandra connector and their dependencies). dir defaults to
// <home>/build/spark/image-jars; `make images` passes it to imagebuild
// -spark-jars.
//
// up warms up each engine it starts before calling it ready: the paths the
// workloads use, on scratch data it removes (see devservices.Warmup).
// $SLUICE_WARMUP=0 skips that; a duration (such as 2m) caps each engine's.
//
// Engines: kafka, cassandra, postgres, redis. The home folder is .sluice at
// the repository root, or $SLUICE_HOME.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/sparkrun"
)

const usage = `usage: devservices <command> [arguments]

commands:
  up [engine...]              start engines (default: all), wait until they answer, then warm up
                              those it started (SLUICE_WARMUP=0 skips, a duration caps each)
  warmup [engine...]          run the warm-up on running engines now and print its figures
  down [--purge] [engine...]  stop engines (default: all); --purge also deletes .sluice/data
  restart engine...           stop and start engines again
  status                      show which engines run and answer
  logs engine [-n N]          print the last N lines (default 50) of an engine's log
  env                         print export lines for the local endpoints
  redis-clear-tests           empty the tests' Redis database (make test does, before and after)
  spark                       fetch the Spark jar set (once) and build the Spark jobs' jar; print both paths
  spark-enrich-env            as spark, then print export lines that run enrich on the Spark engine locally
                              (ENRICH_ENGINE, ENRICH_SPARK_COMMAND, SPARK_MASTER, SPARK_LOCAL_IP)
  spark-image [-out dir]      as spark, then fill dir (default <home>/build/spark/image-jars) with the
                              stream image's jars: the job jar and the jars Spark's distribution lacks

engines: kafka, cassandra, postgres, redis
home: .sluice at the repository root, or $SLUICE_HOME
`

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "devservices:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "env":
		if len(rest) > 0 {
			return fmt.Errorf("%w: env takes no arguments", errUsage)
		}
		printEnv(stdout, devservices.LocalEndpoints())
		return nil
	}
	m, err := devservices.New("")
	if err != nil {
		return err
	}
	m.SetOutput(stderr)
	switch cmd {
	case "up":
		engines, err := parseEngines(rest)
		if err != nil {
			return err
		}
		begin := time.Now()
		if err := m.Up(ctx, engines...); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "all requested engines are ready (%.1fs); `devservices env` prints their endpoints\n", time.Since(begin).Seconds())
		return nil
	case "warmup":
		engines, err := parseEngines(rest)
		if err != nil {
			return err
		}
		_, err = m.WarmUp(ctx, engines...)
		return err
	case "down":
		fs := flag.NewFlagSet("down", flag.ContinueOnError)
		fs.SetOutput(stderr)
		purge := fs.Bool("purge", false, "also delete all engine data (.sluice/data)")
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		engines, err := parseEngines(fs.Args())
		if err != nil {
			return err
		}
		if *purge {
			if len(engines) > 0 {
				return fmt.Errorf("%w: --purge applies to all engines; name none", errUsage)
			}
			return m.Purge(ctx)
		}
		return m.Stop(ctx, engines...)
	case "restart":
		engines, err := parseEngines(rest)
		if err != nil {
			return err
		}
		if len(engines) == 0 {
			return fmt.Errorf("%w: restart needs at least one engine", errUsage)
		}
		if err := m.Stop(ctx, engines...); err != nil {
			return err
		}
		return m.Up(ctx, engines...)
	case "status":
		if len(rest) > 0 {
			return fmt.Errorf("%w: status takes no arguments", errUsage)
		}
		sts, err := m.Status(ctx)
		if err != nil {
			return err
		}
		printStatus(stdout, sts)
		return nil
	case "logs":
		return logs(m, rest, stdout, stderr)
	case "spark":
		if len(rest) > 0 {
			return fmt.Errorf("%w: spark takes no arguments", errUsage)
		}
		job, err := sparkrun.Prepare(ctx, m)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "spark jars: %s\njob jar: %s\n", job.Runtime.Jars, job.Jar)
		return nil
	case "spark-enrich-env":
		if len(rest) > 0 {
			return fmt.Errorf("%w: spark-enrich-env takes no arguments", errUsage)
		}
		job, err := sparkrun.Prepare(ctx, m)
		if err != nil {
			return err
		}
		command, err := sparkrun.EnrichCommandJSON(job, "2g")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "export %s=%s\nexport %s=%s\n", deploy.EnvEnrichEngine, "spark", deploy.EnvEnrichSparkCommand, shellQuote(command))
		for _, kv := range sparkrun.LocalEnv() {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(stdout, "export %s=%s\n", k, shellQuote(v))
		}
		return nil
	case "spark-image":
		return sparkImage(ctx, m, rest, stdout, stderr)
	case "redis-clear-tests":
		n, err := m.FlushTestRedis(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "redis: cleared the tests' database %d (%d keys)\n", devservices.TestRedisDB, n)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// sparkImage builds the job jar and writes the stream image's jar folder.
func sparkImage(ctx context.Context, m *devservices.Manager, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("spark-image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", filepath.Join(m.Layout().Home, "build", "spark", "image-jars"), "folder to fill with the stream image's jars (replaced)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: spark-image takes no arguments", errUsage)
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return fmt.Errorf("resolve -out: %w", err)
	}
	job, err := sparkrun.Prepare(ctx, m)
	if err != nil {
		return err
	}
	// The SparkApplication names the job jar by the contract's path.
	if want := path.Base(deploy.SparkJobJar); filepath.Base(job.Jar) != want {
		return fmt.Errorf("the job jar is %s; the stream image needs it named %s", filepath.Base(job.Jar), want)
	}
	names, err := m.WriteSparkImageJars(ctx, dir, job.Jar)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stream image jars: %s (%d jars: the job jar and %d Spark does not ship)\n", dir, len(names), len(names)-1)
	return nil
}

func parseEngines(args []string) ([]devservices.Engine, error) {
	var out []devservices.Engine
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("%w: unknown flag %s", errUsage, a)
		}
		e, err := devservices.ParseEngine(a)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func logs(m *devservices.Manager, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 50, "number of lines")
	// Accept the engine before or after -n.
	var engineArg []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		engineArg, args = args[:1], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	engineArg = append(engineArg, fs.Args()...)
	if len(engineArg) != 1 {
		return fmt.Errorf("%w: logs needs exactly one engine", errUsage)
	}
	if *n < 0 {
		return fmt.Errorf("%w: -n must not be negative", errUsage)
	}
	e, err := devservices.ParseEngine(engineArg[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	lines, err := m.Logs(e, *n)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return nil
}

func printEnv(w io.Writer, ep devservices.Endpoints) {
	for _, kv := range ep.Env() {
		fmt.Fprintf(w, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
}

// shellQuote leaves plain values alone and single-quotes anything else, so
// `eval "$(devservices env)"` is safe.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func printStatus(w io.Writer, sts []devservices.EngineStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENGINE\tSTATE\tPID\tPORTS\tDETAIL")
	for _, st := range sts {
		state := "stopped"
		switch {
		case st.Healthy:
			state = "healthy"
		case st.Running:
			state = "unhealthy"
		}
		pid := "-"
		if st.PID > 0 {
			pid = fmt.Sprint(st.PID)
		}
		ports := make([]string, len(st.Ports))
		for i, p := range st.Ports {
			ports[i] = fmt.Sprint(p)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.Engine, state, pid, strings.Join(ports, ","), st.Detail)
	}
	tw.Flush()
}
