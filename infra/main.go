package main

import (
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/delivery/langhost"
	"github.com/sluicehq/sluice/infra/internal/platform"
)

// With arguments the binary hosts itself for one CLI operation
// (`sluice-infra -- pulumi preview ...`, what make preview|up|destroy|refresh
// run); without, it is the program the Go language host starts.
func main() {
	if len(os.Args) > 1 {
		os.Exit(langhost.Main("sluice-infra", platform.Program, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	pulumi.Run(platform.Program)
}
