package sparklaunch

import (
	"context"
	"strconv"
	"time"
)

// Run is one window handed to the Spark engine: the batch_runs row the Go
// side recorded for it and the window, [From, To).
type Run struct {
	ID       int64
	From, To time.Time
}

// Launcher runs the Spark enrich job for one run and returns when its
// driver has ended: nil when it exited successfully (the run's row then
// says what it did), an error otherwise. Cancelling ctx stops the driver.
type Launcher interface {
	Launch(ctx context.Context, r Run) error
}

// Args are the driver's arguments for a run; io.sluice.spark.EnrichJob
// reads exactly these.
func Args(r Run) []string {
	return []string{
		"--run-id", strconv.FormatInt(r.ID, 10),
		"--from", r.From.UTC().Format(time.RFC3339Nano),
		"--to", r.To.UTC().Format(time.RFC3339Nano),
	}
}
