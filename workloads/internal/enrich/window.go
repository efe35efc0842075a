package enrich

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
)

// MaxWindow bounds one window: it is one transaction, and events_by_hour
// keeps 35 days anyway.
const MaxWindow = 35 * 24 * time.Hour

// Window is a half-open interval of event time, [From, To), in UTC.
type Window struct {
	From, To time.Time
}

func (w Window) String() string {
	return w.From.UTC().Format(time.RFC3339) + "/" + w.To.UTC().Format(time.RFC3339)
}

// Validate checks the window is non-empty, bounded, and not in the future
// beyond the clock skew events may have.
func (w Window) Validate(now time.Time) error {
	switch {
	case w.From.IsZero() || w.To.IsZero():
		return errors.New("window needs both ends")
	case !w.To.After(w.From):
		return fmt.Errorf("window %s is empty: --to must be after --from", w)
	case w.To.Sub(w.From) > MaxWindow:
		return fmt.Errorf("window %s is longer than %s", w, MaxWindow)
	case w.To.After(now.Add(contract.MaxFutureSkew)):
		return fmt.Errorf("window %s ends in the future (now %s)", w, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// FirstHour is the hour bucket of From.
func (w Window) FirstHour() time.Time { return contract.Hour(w.From) }

// EndHour is the end of the last hour the window touches: To rounded up to
// the hour. site_hourly is recomputed for [FirstHour, EndHour).
func (w Window) EndHour() time.Time {
	h := contract.Hour(w.To)
	if h.Equal(w.To.UTC()) {
		return h
	}
	return h.Add(time.Hour)
}

// Hours lists the events_by_hour buckets the window reads.
func (w Window) Hours() []time.Time {
	var out []time.Time
	for h := w.FirstHour(); h.Before(w.EndHour()); h = h.Add(time.Hour) {
		out = append(out, h)
	}
	return out
}

// ParseTime reads an RFC 3339 time, or a date (midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (2006-01-02T15:04:05Z) or a date", s)
}

// Covered is a succeeded run's window, as the planner sees it: the run and
// when it started, before it read anything from Cassandra.
type Covered struct {
	Window
	RunID     int64
	StartedAt time.Time
}

// Reason says why a run enriches its window; batch_runs records it.
type Reason string

const (
	// ReasonDue is a completed hour no succeeded run covers yet.
	ReasonDue Reason = "due"
	// ReasonLate is an hour a succeeded run covers but that received rows
	// after that run started (its hour mark says so): it is redone whole.
	ReasonLate Reason = "late"
	// ReasonRequested is a window asked for explicitly (--from/--to).
	ReasonRequested Reason = "requested"
)

// Due is a window a default run processes, and why.
type Due struct {
	Window
	Reason Reason
	// For ReasonLate: Redoes is the succeeded run that covered the hour,
	// StoredAt the hour's mark, the latest time ingest stored rows into it.
	Redoes   int64
	StoredAt time.Time
}

// Marks are the hour marks (contract.TableHourMarks) by hour: when ingest
// last stored rows into each.
type Marks map[time.Time]time.Time

// late reports whether hour h, covered by a succeeded run, received rows
// after every covering run started: its mark is later than the contract's
// lag before the latest covering run's start. It returns that run.
func late(h Window, done []Covered, marks Marks) (Covered, time.Time, bool) {
	var last Covered
	found := false
	for _, d := range done {
		if !d.From.After(h.From) && !d.To.Before(h.To) && (!found || d.StartedAt.After(last.StartedAt)) {
			last, found = d, true
		}
	}
	stored, ok := marks[h.From]
	if !found || !ok {
		return Covered{}, time.Time{}, false
	}
	return last, stored, stored.After(last.StartedAt.Add(-contract.HourMarkLag))
}

// PlanDefault returns the windows a run without --from/--to processes: each
// completed hour that no succeeded run covers completely (ReasonDue), and
// each covered hour that received rows after its run (ReasonLate, see
// late), oldest first, one window per hour. An hour is completed once
// settle has passed after its end. The hours looked at start at the first
// succeeded run's window (the job's beginning), but no more than catchup
// back; without any succeeded run (a new deployment) only the last
// completed hour is due, and older hours are a deliberate --from/--to
// backfill. A run over part of an hour (such as the demo's window ending
// now) does not cover it, so the hour is redone whole once completed.
func PlanDefault(done []Covered, firstDone *time.Time, marks Marks, now time.Time, settle, catchup time.Duration) []Due {
	end := contract.Hour(now.Add(-settle))
	start := end.Add(-time.Hour)
	if firstDone != nil {
		start = contract.Hour(end.Add(-catchup))
		if first := contract.Hour(*firstDone); first.After(start) {
			start = first
		}
	}
	var out []Due
	for h := start; h.Before(end); h = h.Add(time.Hour) {
		w := Window{From: h, To: h.Add(time.Hour)}
		if !coveredBy(w, done) {
			out = append(out, Due{Window: w, Reason: ReasonDue})
			continue
		}
		if run, stored, ok := late(w, done, marks); ok {
			out = append(out, Due{Window: w, Reason: ReasonLate, Redoes: run.RunID, StoredAt: stored})
		}
	}
	return out
}

// MaxMissedLookback bounds how far back PlanMissed looks for hours a
// default run leaves out.
const MaxMissedLookback = 31 * 24 * time.Hour

// PlanMissed returns the completed hours a default run never enriches:
// after the first succeeded run (firstDone) but before the catch-up
// horizon, either not covered by any succeeded run or late (rows stored
// after their run), merged into contiguous windows, oldest first, looking
// back at most MaxMissedLookback. They are what a job that was down longer
// than ENRICH_CATCHUP, or events older than it, left behind; only a
// --from/--to backfill enriches them, so the job reports them instead of
// dropping them silently.
func PlanMissed(done []Covered, firstDone *time.Time, marks Marks, now time.Time, settle, catchup time.Duration) []Window {
	if firstDone == nil {
		return nil
	}
	end := contract.Hour(now.Add(-settle))
	horizon := contract.Hour(end.Add(-catchup))
	start := contract.Hour(*firstDone)
	if floor := contract.Hour(now.Add(-MaxMissedLookback)); start.Before(floor) {
		start = floor
	}
	var out []Window
	for h := start; h.Before(horizon); h = h.Add(time.Hour) {
		w := Window{From: h, To: h.Add(time.Hour)}
		if coveredBy(w, done) {
			if _, _, isLate := late(w, done, marks); !isLate {
				continue
			}
		}
		if n := len(out); n > 0 && out[n-1].To.Equal(w.From) {
			out[n-1].To = w.To
			continue
		}
		out = append(out, w)
	}
	return out
}

func coveredBy(w Window, done []Covered) bool {
	for _, d := range done {
		if !d.From.After(w.From) && !d.To.Before(w.To) {
			return true
		}
	}
	return false
}
