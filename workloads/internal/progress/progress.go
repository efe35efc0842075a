package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Reporter shows how far some work has come. Set is safe for concurrent use.
type Reporter struct {
	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	log      *slog.Logger
	what     string
	total    int64
	every    time.Duration
	lastLog  time.Time
	started  time.Time
	finished bool
}

// New reports on work of total units (-1 if unknown), described by what.
func New(what string, total int64) *Reporter {
	return NewTo(os.Stderr, term.IsTerminal(int(os.Stderr.Fd())), what, total)
}

// NewTo is New with the output and the terminal decision made by the caller.
func NewTo(w io.Writer, terminal bool, what string, total int64) *Reporter {
	r := &Reporter{what: what, total: total, every: 5 * time.Second, started: time.Now()}
	if terminal {
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("ev"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	} else {
		r.log = slog.New(slog.NewJSONHandler(w, nil))
	}
	return r
}

// Set moves the work to done units, with detail (for example "stored 10 ·
// dlq 1") shown beside the bar or logged.
func (r *Reporter) Set(done int64, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	if r.bar != nil {
		if detail != "" {
			r.bar.Describe(fmt.Sprintf("%s %s", r.what, detail))
		}
		_ = r.bar.Set64(done)
		return
	}
	if time.Since(r.lastLog) >= r.every {
		r.lastLog = time.Now()
		r.log.Info("progress", "what", r.what, "done", done, "total", r.total, "detail", detail,
			"elapsed_s", time.Since(r.started).Round(time.Millisecond).Seconds())
	}
}

// Finish ends the report.
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	if r.bar != nil {
		_ = r.bar.Finish()
		_ = r.bar.Exit()
	}
}

// Tick calls f every 200 ms (the refresh of a progress line) until the
// returned stop is called; a call in flight may finish after stop returns.
func Tick(f func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done) }
}
