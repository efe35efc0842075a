// Package localrun starts workload binaries as child processes against the
// local engines, for the demo and the benchmarks: it passes the endpoints as
// environment variables, waits for /readyz, reads the process's Prometheus
// counters, CPU time and peak RSS, and stops it with SIGTERM the way
// Kubernetes would.
package localrun
