// Command infra is the Sluice Pulumi program (Pulumi.yaml's main). The program
// itself lives in internal/platform so that tests and the offline plan can
// run it under mocks.
//
// Started by the Go language host (no arguments) it runs the program. Started
// with arguments it hosts itself for one CLI operation (package
// delivery/langhost):
//
//	go build -o .sluice/bin/sluice-infra ./infra
//	.sluice/bin/sluice-infra -- pulumi --cwd . preview --stack dev
//
// which is what make preview|up|destroy|refresh run, so a CLI without the
// Go language host (make pulumi-cli) deploys it. `sluice-infra -plugins`
// prints the provider plugins the CLI installs for it.
package main
