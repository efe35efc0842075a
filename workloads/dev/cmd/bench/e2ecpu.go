package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
)

// cpuMark is a snapshot of what the processes of the path have used: CPU
// seconds and time spent waiting for a CPU in the run queue, per process,
// and the load average. Two marks bound a window: on two shared cores a
// window whose processes wait about as long as they run was starved of
// CPU rather than slow by itself.
type cpuMark struct {
	at        time.Time
	cpu, wait map[string]float64
	load      string
}

// e2eCPUProcs names the processes the e2e report accounts for, in order.
var e2eCPUProcs = []string{"cassandra", "kafka", "ingest", "changefeed", "api"}

// pids returns the processes to account for: the engines from their pid
// files, the workloads from their launcher.
func (b *e2eBench) pids(ctx context.Context) map[string]int {
	out := map[string]int{}
	if sts, err := b.lc.Manager.Status(ctx); err == nil {
		for _, st := range sts {
			if st.Running && (st.Engine == devservices.Cassandra || st.Engine == devservices.Kafka) {
				out[string(st.Engine)] = st.PID
			}
		}
	}
	for name, p := range map[string]*localrun.Proc{"ingest": b.ingest, "changefeed": b.changefeed, "api": b.api} {
		if p != nil {
			out[name] = p.Pid()
		}
	}
	return out
}

func (b *e2eBench) cpuMark() cpuMark {
	m := cpuMark{at: time.Now(), cpu: map[string]float64{}, wait: map[string]float64{}}
	for name, pid := range b.procPIDs {
		if c, err := localrun.CPUSeconds(pid); err == nil {
			m.cpu[name] = c
		}
		if w, err := runDelay(pid); err == nil {
			m.wait[name] = w.Seconds()
		}
	}
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(l)); len(f) > 0 {
			m.load = f[0]
		}
	}
	return m
}

// cpuWindow is each process's CPU and run-queue wait, in seconds per
// second of the window from a to z; nil when either mark is missing.
func cpuWindow(a, z cpuMark) map[string][2]float64 {
	secs := z.at.Sub(a.at).Seconds()
	if a.at.IsZero() || z.at.IsZero() || secs <= 0 {
		return nil
	}
	out := map[string][2]float64{}
	for _, name := range e2eCPUProcs {
		c0, ok0 := a.cpu[name]
		c1, ok1 := z.cpu[name]
		if !ok0 || !ok1 {
			continue
		}
		out[name] = [2]float64{round2((c1 - c0) / secs), round2((z.wait[name] - a.wait[name]) / secs)}
	}
	return out
}

// cpuRows are a window's rows: per process, CPU / run-queue wait in s per s.
func cpuRows(window string, a, z cpuMark) []row {
	w := cpuWindow(a, z)
	if w == nil {
		return nil
	}
	rows := []row{{fmt.Sprintf("%s: load average at its end", window), z.load}}
	for _, name := range e2eCPUProcs {
		if v, ok := w[name]; ok {
			rows = append(rows, row{fmt.Sprintf("  %s CPU / run-queue wait, s per s", name), fmt.Sprintf("%.2f / %.2f", v[0], v[1])})
		}
	}
	return rows
}
