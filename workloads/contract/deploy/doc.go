// Package deploy is the deployment contract between the infrastructure and
// the workloads, held once in Go: the names of the workloads and which
// ones ship as images, the environment variables each workload reads, the
// fixed ports, and the shape of a workload identity. The workloads' config
// loaders read their variables by these constants; the Pulumi program is
// meant to set them by the same constants, so a renamed variable or port is
// one edit and the compiler finds every user.
//
// It lives beside package contract (the event and the Cassandra schema),
// the one area both trees may import (see DESIGN.md), and imports nothing
// of either.
package deploy
