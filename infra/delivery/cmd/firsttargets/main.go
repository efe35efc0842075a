// Command firsttargets reads a plan on standard input (`pulumi preview --json`
// or the offline plan, `go run ./infra/cmd/plan -json`) and prints one
// `--target=<urn>` argument per line for a first, targeted `pulumi up`
// (package targets):
//
//	-first registry   the stack's container registries with what they need:
//	                  the registry exists before images are imported into it
//	                  and before any workload pulls them (stack-up.sh);
//	-first azure      every Azure resource with what it needs, no Kubernetes
//	                  object: for a stack whose API server only its in-VNet
//	                  runner reaches, this creates the runner from a hosted
//	                  runner (azure-first.sh).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sluicehq/sluice/infra/delivery/targets"
)

func main() { os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

var kinds = map[string]func(io.Reader) ([]string, error){
	"registry": targets.RegistryFirst,
	"azure":    targets.AzureFirst,
}

func realMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firsttargets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	first := fs.String("first", "", "what the first update creates: registry or azure")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	pick, ok := kinds[*first]
	if !ok {
		fmt.Fprintf(stderr, "firsttargets: -first is %q; want registry or azure\n", *first)
		return 2
	}
	urns, err := pick(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "firsttargets: %v\n", err)
		return 1
	}
	for _, u := range urns {
		fmt.Fprintf(stdout, "--target=%s\n", u)
	}
	return 0
}
