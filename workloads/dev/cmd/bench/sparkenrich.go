package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/sparkrun"
	"github.com/sluicehq/sluice/workloads/internal/enrich"
)

func init() { benchmarks["spark-enrich"] = benchSparkEnrich }

// engineRun is one measured run of the enrich binary over the window.
type engineRun struct {
	name     string
	secs     float64
	jobRSS   float64 // the enrich process's peak RSS, MiB
	jvmRSS   float64 // the Spark driver's (its child's), MiB; 0 for the Go engine
	read     int64
	changed  int64
	copyMS   int64
	upsertMS int64
	fp       string // the fingerprint of what the run wrote
}

// benchSparkEnrich sets up the window as bench enrich does (reusing the
// events an earlier run left), then enriches it three times into three
// fresh databases in the same run: the Go engine, and the Spark engine on
// local[1] and local[2], each through the enrich binary (which plans,
// records and launches exactly as on a deployment). It checks the three
// wrote the same rows and prints events/s, peak RSS and the Spark engine's
// events/s per executor core, the figure to size a cluster by.
func benchSparkEnrich(args []string) error {
	b, err := parseEnrich(args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	defer b.teardown()
	if err := b.setup(ctx); err != nil {
		return err
	}
	fmt.Println("setup: building the Spark job and fetching its jar set")
	job, err := sparkrun.Prepare(ctx, b.lc.Manager)
	if err != nil {
		return err
	}
	command, err := sparkrun.EnrichCommandJSON(job, "3g")
	if err != nil {
		return err
	}

	var runs []engineRun
	goRun, err := b.runEngine(ctx, "go", b.dbURL, b.pool, nil)
	if err != nil {
		return err
	}
	runs = append(runs, goRun)
	for _, cores := range []int{1, 2} {
		name := fmt.Sprintf("spark local[%d]", cores)
		dbURL, pool, err := b.freshDatabase(ctx, fmt.Sprintf("%s_spark%d", benchDatabase, cores))
		if err != nil {
			return err
		}
		r, err := b.runEngine(ctx, name, dbURL, pool, append(sparkrun.LocalEnv(),
			deploy.EnvEnrichEngine+"="+enrich.EngineSpark, deploy.EnvEnrichSparkCommand+"="+command,
			fmt.Sprintf("SPARK_MASTER=local[%d]", cores)))
		pool.Close()
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	same := true
	for _, r := range runs[1:] {
		same = same && r.fp == runs[0].fp
	}
	rate := func(r engineRun) float64 { return float64(r.read) / r.secs }
	s1, s2 := runs[1], runs[2]
	perCore1, perCore2 := rate(s1), rate(s2)/2
	rows := []row{{"events in the window", fmt.Sprint(goRun.read)}}
	for _, r := range runs {
		rss := fmt.Sprintf("%.0f", r.jobRSS)
		if r.jvmRSS > 0 {
			rss = fmt.Sprintf("%.0f (driver JVM) + %.0f (enrich)", r.jvmRSS, r.jobRSS)
		}
		rows = append(rows,
			row{r.name + " (events/s)", fmt.Sprintf("%.0f  (%.1fs; stage %dms, merge %dms)", rate(r), r.secs, r.copyMS, r.upsertMS)},
			row{r.name + " peak RSS (MiB)", rss})
	}
	rows = append(rows,
		row{"spark local[2] / go", fmt.Sprintf("%.2f", rate(s2)/rate(goRun))},
		row{"spark events/s per executor core (1 core / 2 cores)", fmt.Sprintf("%.0f / %.0f", perCore1, perCore2)},
		row{"spark scaling 1→2 cores", fmt.Sprintf("%.2f×", rate(s2)/rate(s1))},
		row{"rows identical across engines", fmt.Sprint(same)},
	)
	err = report("spark-enrich", rows, [][2]any{
		{"events", goRun.read},
		{"go_events_per_s", round(rate(goRun))},
		{"go_peak_rss_mib", round2(goRun.jobRSS)},
		{"spark1_events_per_s", round(rate(s1))},
		{"spark2_events_per_s", round(rate(s2))},
		{"spark1_peak_rss_mib", round2(s1.jvmRSS + s1.jobRSS)},
		{"spark2_peak_rss_mib", round2(s2.jvmRSS + s2.jobRSS)},
		{"spark_events_per_s_per_core_1", round(perCore1)},
		{"spark_events_per_s_per_core_2", round(perCore2)},
		{"spark2_over_go", round2(rate(s2) / rate(goRun))},
		{"identical", same},
	})
	if err == nil && !same {
		err = errors.New("the engines wrote different rows for the same window")
	}
	return err
}

// runEngine runs the enrich binary over the window against dbURL, with env
// added (the Spark engine's), and reads back its run record and a
// fingerprint of the rows it wrote.
func (b *enrichBench) runEngine(ctx context.Context, name, dbURL string, pool *pgxpool.Pool, env []string) (engineRun, error) {
	r := engineRun{name: name}
	fmt.Printf("%s: enrich over %s\n", name, b.w)
	launch := b.lc.launcher(b.bin, "bench-"+strings.NewReplacer(" ", "-", "[", "", "]", "").Replace(name)+"-")
	cmd, lf, err := launch.Command(context.WithoutCancel(ctx), "enrich", append([]string{"ENRICH_MODELS_URL=" + b.modelsPath, "LOG_LEVEL=warn",
		"POSTGRES_URL=" + dbURL}, env...), "--from", b.w.From.Format(time.RFC3339), "--to", b.w.To.Format(time.RFC3339))
	if err != nil {
		return r, err
	}
	defer lf.Close()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start enrich: %w", err)
	}
	runErr := watchTreeRSS(cmd, &r.jobRSS, &r.jvmRSS)
	r.secs = time.Since(start).Seconds()
	if runErr != nil {
		return r, fmt.Errorf("%s: enrich: %w (log: %s)", name, runErr, lf.Name())
	}
	var status string
	if err := pool.QueryRow(ctx, `SELECT status, events_read, events_changed, copy_ms, upsert_ms FROM batch_runs
		WHERE job = 'enrich' ORDER BY run_id DESC LIMIT 1`).Scan(&status, &r.read, &r.changed, &r.copyMS, &r.upsertMS); err != nil {
		return r, fmt.Errorf("%s: read the run record: %w", name, err)
	}
	if status != enrich.StatusSucceeded || r.read != int64(b.n) || r.changed != int64(b.n) {
		return r, fmt.Errorf("%s: run %s read %d and changed %d of %d events", name, status, r.read, r.changed, b.n)
	}
	cols := strings.Join(enrich.EnrichedColumns, ", ")
	var events, hourly string
	if err := pool.QueryRow(ctx, `SELECT count(*) || ':' || coalesce(sum(hashtext(row(`+cols+`)::text)::int8), 0) FROM enriched_events`).Scan(&events); err != nil {
		return r, fmt.Errorf("%s: fingerprint: %w", name, err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) || ':' || coalesce(sum(hashtext(h::text)::int8), 0) FROM site_hourly h`).Scan(&hourly); err != nil {
		return r, fmt.Errorf("%s: fingerprint: %w", name, err)
	}
	r.fp = events + "/" + hourly
	fmt.Printf("%s: %.1fs\n", name, r.secs)
	return r, nil
}

// watchTreeRSS waits for cmd, reading the peak resident size of it and of
// its descendants (the Spark driver's JVM) while it runs.
func watchTreeRSS(cmd *exec.Cmd, own, children *float64) error {
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	root := cmd.Process.Pid
	for {
		if v, err := localrun.PeakRSSMiB(root); err == nil {
			*own = max(*own, v)
		}
		for _, pid := range descendants(root) {
			if v, err := localrun.PeakRSSMiB(pid); err == nil {
				*children = max(*children, v)
			}
		}
		select {
		case err := <-waitErr:
			return err
		case <-tick.C:
		}
	}
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []int {
	parent := map[int]int{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		p, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b)[i+1:])
		if len(f) > 1 {
			if pp, err := strconv.Atoi(f[1]); err == nil {
				parent[p] = pp
			}
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q != 0; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
			if _, ok := parent[q]; !ok {
				break
			}
		}
	}
	return out
}
