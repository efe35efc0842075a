// Command infra is the Sluice Pulumi program (Pulumi.yaml's main). The program
// itself lives in internal/platform so that tests and the offline plan can
// run it under mocks.
package main
