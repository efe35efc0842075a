// Command registryfirst reads `pulumi preview --json` on standard input and
// prints one `--target=<urn>` argument per line: the stack's container
// registries with everything they need (parents and dependencies, see
// package targets). A first deploy runs `pulumi up` with these targets, so
// the registry exists before images are imported into it and before any
// workload that pulls them is created.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sluicehq/sluice/infra/delivery/targets"
)

func main() { os.Exit(realMain(os.Stdin, os.Stdout, os.Stderr)) }

func realMain(stdin io.Reader, stdout, stderr io.Writer) int {
	urns, err := targets.RegistryFirst(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "registryfirst: %v\n", err)
		return 1
	}
	for _, u := range urns {
		fmt.Fprintf(stdout, "--target=%s\n", u)
	}
	return 0
}
