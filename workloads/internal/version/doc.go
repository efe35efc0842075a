// Package version carries the build's version, set by the image build with
// -ldflags "-X github.com/sluicehq/sluice/workloads/internal/version.Version=…",
// and answers --version and --help for every workload binary.
package version
