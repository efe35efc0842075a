// Package localrun is the one launcher of the local pipeline, shared by the
// demo, the benchmarks and the pipeline tests: Up brings the local engines
// up, Env gives the workloads their environment for them, and a Launcher
// starts each workload binary as a child process with that environment and
// its own log file, waits for /readyz, and stops the processes in reverse
// start order with SIGTERM, the way Kubernetes would. A Proc also reads
// its Prometheus counters, CPU time and peak RSS for the benchmarks.
package localrun
