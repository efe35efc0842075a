// Command size prints a stack-config fragment for a planned event rate and
// the reasoning behind each number (package sizing): make size RATE=50000
// [EVENT_BYTES=400] [RETENTION_DAYS=7] [CRITICAL_SHARE=0.05].
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sluicehq/sluice/infra/internal/sizing"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("size", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var in sizing.Input
	fs.Float64Var(&in.Rate, "rate", 0, "sustained peak events per second (required)")
	fs.IntVar(&in.EventBytes, "event-bytes", 400, "bytes of one stored event")
	fs.IntVar(&in.RetentionDays, "retention-days", 7, "Event Hubs retention in days")
	fs.Float64Var(&in.CriticalShare, "critical-share", 0.05, "share of critical events")
	fs.IntVar(&in.Sites, "sites", 1000, "sites with a critical list in Redis")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	p, err := sizing.Size(in)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	fmt.Fprintf(stdout, "# Sizing for %.0f events/s (stacks/Pulumi.<stack>.yaml; a starting point, settle it with a load test)\n", in.Rate)
	for _, r := range p.Reasons {
		fmt.Fprintf(stdout, "#   %s\n", r)
	}
	fmt.Fprint(stdout, p.Fragment())
	return 0
}
