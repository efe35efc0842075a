package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// minuteKey names one site_minutes row: a site, kind and unit's minute.
type minuteKey struct {
	site, kind, unit string
	minute           time.Time
}

// sighting is a poll that saw a row's count grow to events.
type sighting struct {
	at     time.Time
	events int64
}

// visibility is one event's event time and how long after it the
// aggregates first counted it.
type visibility struct {
	at  time.Time
	lag time.Duration
}

// visibleLags finds when each produced event became visible in its
// minute's row. The rows count events, not which ones, so within a row the
// events are taken in event-time order: the i-th is visible at the first
// sighting whose count reaches i. The stream's partitions are read side by
// side, so a later event may be counted before an earlier one of the same
// row; at a steady rate that shifts a lag by milliseconds, far below the
// trigger interval. produced holds each row's event times (any order;
// sorted here) and seen each row's sightings in poll order. It returns the
// lags of the events at or after from, in event-time order, and how many
// events (from any time) were never counted.
func visibleLags(produced map[minuteKey][]time.Time, seen map[minuteKey][]sighting, from time.Time) (out []visibility, missing int) {
	for k, ats := range produced {
		ats = append([]time.Time(nil), ats...)
		sort.Slice(ats, func(i, j int) bool { return ats[i].Before(ats[j]) })
		sights := seen[k]
		j := 0
		for i, at := range ats {
			for j < len(sights) && sights[j].events < int64(i+1) {
				j++
			}
			if j == len(sights) {
				missing += len(ats) - i
				break
			}
			if !at.Before(from) {
				out = append(out, visibility{at: at, lag: sights[j].at.Sub(at)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out, missing
}

// lagsOf returns the lags of vs, sorted ascending.
func lagsOf(vs []visibility) []time.Duration {
	lags := make([]time.Duration, len(vs))
	for i, v := range vs {
		lags[i] = v.lag
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	return lags
}

// percentile is the nearest-rank q-quantile of sorted; 0 when empty.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// lagDrift is how much the median lag of the last quarter of vs (in
// event-time order) exceeds that of the first quarter: near zero when the
// job keeps up, growing with the run's length when a backlog builds.
func lagDrift(vs []visibility) time.Duration {
	q := len(vs) / 4
	if q == 0 {
		return 0
	}
	return percentile(lagsOf(vs[len(vs)-q:]), 0.5) - percentile(lagsOf(vs[:q]), 0.5)
}

// sparkFigures are what the targets are judged on.
type sparkFigures struct {
	eventsPerS                 float64       // the backlog drained into the aggregates
	backlogCounted, backlog    int64         // counted by the aggregates / produced
	steadyCounted, steadyAcked int64         // the same for the steady phase
	p99, drift                 time.Duration // event time → aggregate visible at the steady rate
	samples                    int           // events the latency was measured on
}

// target is one target and whether the run met it.
type target struct {
	name string
	met  bool
}

// sparkTargets judges a run: at least twice the demo's event rate from
// the backlog, every event counted exactly once in both phases, p99 at the
// steady rate within the trigger interval plus 5 s, and no growing lag
// there (the median lag of the last quarter at most one trigger interval
// above the first quarter's).
func sparkTargets(f sparkFigures, demoRate float64, trigger time.Duration) []target {
	maxP99 := trigger + 5*time.Second
	return []target{
		{fmt.Sprintf("≥ 2 × demo rate (%.0f events/s)", 2*demoRate), f.eventsPerS >= 2*demoRate},
		{"backlog counted exactly", f.backlog > 0 && f.backlogCounted == f.backlog},
		{"steady phase counted exactly", f.steadyAcked > 0 && f.steadyCounted == f.steadyAcked},
		{fmt.Sprintf("p99 ≤ trigger + 5 s (%s)", maxP99), f.samples > 0 && f.p99 <= maxP99},
		{fmt.Sprintf("no growing lag (drift ≤ %s)", trigger), f.samples > 0 && f.drift <= trigger},
	}
}

// batchStats sums the micro-batches of one query the job logged.
type batchStats struct {
	batches, rows int64
	totalMS       int64
	maxMS         int64
}

// parseBatches reads the job's "query <name> batch <n> done: <rows> rows
// in <ms> ms" lines (StreamJob's progress listener) from a piece of its
// log, by query name.
func parseBatches(text string) map[string]batchStats {
	out := map[string]batchStats{}
	for _, line := range strings.Split(text, "\n") {
		name, rows, ms, ok := batchLine(line)
		if !ok {
			continue
		}
		s := out[name]
		s.batches++
		s.rows += rows
		s.totalMS += ms
		s.maxMS = max(s.maxMS, ms)
		out[name] = s
	}
	return out
}

// batchLine parses one progress line of the job's log.
func batchLine(line string) (name string, rows, ms int64, ok bool) {
	i := strings.Index(line, "query ")
	if i < 0 {
		return "", 0, 0, false
	}
	var batch int64
	if n, err := fmt.Sscanf(line[i:], "query %s batch %d done: %d rows in %d ms", &name, &batch, &rows, &ms); err != nil || n != 4 {
		return "", 0, 0, false
	}
	return name, rows, ms, true
}

// jobLogTime is how the job's log stamps its lines (log4j's ISO 8601, the
// machine's local time).
const jobLogTime = "2006-01-02T15:04:05,000"

// readAllAt is the time stamped on the progress line of query's batch that
// brought the records it read in all to want; false if none did.
func readAllAt(text, query string, want int64) (time.Time, bool) {
	var total int64
	for _, line := range strings.Split(text, "\n") {
		name, rows, _, ok := batchLine(line)
		if !ok || name != query {
			continue
		}
		if total += rows; total >= want {
			if len(line) < len(jobLogTime) {
				return time.Time{}, false
			}
			at, err := time.ParseInLocation(jobLogTime, line[:len(jobLogTime)], time.Local)
			return at, err == nil
		}
	}
	return time.Time{}, false
}
