package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/platform"
)

func main() {
	pulumi.Run(platform.Program)
}
