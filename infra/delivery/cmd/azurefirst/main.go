// Command azurefirst reads a plan on standard input (`pulumi preview --json`
// or the offline plan, `go run ./infra/cmd/plan -json`) and prints one
// `--target=<urn>` argument per line: every Azure resource with its parents
// and dependencies (package targets). A stack whose Kubernetes API server
// only its in-VNet runner reaches is updated this way first, from a hosted
// runner; that creates the runner (infra/delivery/scripts/azure-first.sh).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sluicehq/sluice/infra/delivery/targets"
)

func main() { os.Exit(realMain(os.Stdin, os.Stdout, os.Stderr)) }

func realMain(stdin io.Reader, stdout, stderr io.Writer) int {
	urns, err := targets.AzureFirst(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "azurefirst: %v\n", err)
		return 1
	}
	for _, u := range urns {
		fmt.Fprintf(stdout, "--target=%s\n", u)
	}
	return 0
}
