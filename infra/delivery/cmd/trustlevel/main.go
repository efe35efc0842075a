// Command trustlevel prints the trust level of a stack (package trust:
// review-* → review, dev and dev-* → dev, staging, prod), the part of the
// names of its state container and state key that the scripts need. It exits
// 1 for a stack with no level, so nothing can act on an unknown stack.
//
//	trustlevel review-pr12    # review
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sluicehq/sluice/infra/bootstrap/trust"
)

func main() { os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr)) }

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: trustlevel STACK")
		return 2
	}
	l, err := trust.StackLevel(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "trustlevel: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, l)
	return 0
}
