// Command pbids writes a Power BI data source file (.pbids) for a stack's
// PostgreSQL server (`make pbids STACK=<name>`: from `pulumi stack output
// --json`) or for the local engines (`make pbids`: from POSTGRES_URL).
// Double-clicking the file opens Power BI Desktop's PostgreSQL connection to
// that server and database; pick the views of the `report` schema.
//
//	pbids -stack prod [-mode Import|DirectQuery] [-o file]
//	pbids -url postgres://127.0.0.1:15432/sluice [-o file]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/sluicehq/sluice/infra/delivery/pbids"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pbids", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "stack whose outputs name the server (runs `pulumi stack output --json`)")
	rawURL := fs.String("url", "", "a postgres:// URL instead of a stack (the local engines)")
	mode := fs.String("mode", "DirectQuery", "Power BI storage mode: Import or DirectQuery")
	out := fs.String("o", "", "output file (default .sluice/reports/sluice-<stack|local>.pbids)")
	pulumi := fs.String("pulumi", envOr("PULUMI", "pulumi"), "the Pulumi CLI")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var (
		src  pbids.Source
		name string
		err  error
	)
	switch {
	case *stack != "" && *rawURL == "":
		name = filepath.Base(*stack)
		src, err = fromStack(*pulumi, *stack)
	case *rawURL != "" && *stack == "":
		name = "local"
		src, err = pbids.FromURL(*rawURL)
	default:
		fmt.Fprintln(stderr, "pbids: give -stack <name> or -url <postgres URL>")
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "pbids: %v\n", err)
		return 1
	}
	path := *out
	if path == "" {
		path = filepath.Join(".sluice", "reports", "sluice-"+name+".pbids")
	}
	var buf bytes.Buffer
	if err := pbids.Write(&buf, src, *mode); err != nil {
		fmt.Fprintf(stderr, "pbids: %v\n", err)
		return 1
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fmt.Fprintf(stderr, "pbids: %v\n", err)
		return 1
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(stderr, "pbids: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %s, database %s (%s); open it with Power BI Desktop and pick the report schema's views\n",
		path, src.Server(), src.Database, *mode)
	return 0
}

func fromStack(pulumi, stack string) (pbids.Source, error) {
	cmd := exec.Command(pulumi, "stack", "output", "--json", "--stack", stack)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return pbids.Source{}, fmt.Errorf("%s stack output --stack %s: %w", pulumi, stack, err)
	}
	return pbids.FromStackOutputs(bytes.NewReader(out))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
