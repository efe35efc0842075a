// Package opsserver serves a workload's operational endpoints: /healthz
// (the process is alive), /readyz (it can do its work now) and /metrics
// (Prometheus). Workloads with an API mount it on their own mux instead.
package opsserver
