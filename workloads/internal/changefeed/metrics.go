package changefeed

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the change-feed worker's Prometheus series.
type Metrics struct {
	Changes       prometheus.Counter
	Batches       prometheus.Counter
	EmptyPolls    prometheus.Counter
	Commits       prometheus.Counter
	ReadRetries   prometheus.Counter
	HandleRetries prometheus.Counter
	LeasesOwned   prometheus.Gauge
	LeasesLost    prometheus.Counter
	// Lag is the time from ingestion to the handler finishing, per change.
	Lag prometheus.Histogram
	// HandleSeconds is the handler's time per batch.
	HandleSeconds prometheus.Histogram
	// ReadSeconds is the feed's time per read (one Next), empty or not.
	ReadSeconds prometheus.Histogram
	// Late counts changes a feed found behind its tail, by the read that
	// found them (the outbox's recheck and settle sweep): many of them
	// mean writes land well after their stamp. via="settled" counts rows
	// the outbox audit found behind the settled cursor: any of them means
	// the grace window is shorter than write timeout plus clock skew.
	Late *prometheus.CounterVec
}

// NewMetrics registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Changes:       prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_changefeed_changes_total", Help: "Changes handed to the handler and processed."}),
		Batches:       prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_changefeed_batches_total", Help: "Non-empty batches processed."}),
		EmptyPolls:    prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_changefeed_empty_polls_total", Help: "Polls that found nothing new (caught up or throttled)."}),
		Commits:       prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_changefeed_commits_total", Help: "Checkpoints saved."}),
		ReadRetries:   prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_changefeed_read_retries_total", Help: "Feed reads retried after an error."}),
		HandleRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_changefeed_handle_retries_total", Help: "Batches whose handler failed and was retried."}),
		LeasesOwned:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_changefeed_leases_owned", Help: "Feed ranges this replica holds the lease of."}),
		LeasesLost:    prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_changefeed_leases_lost_total", Help: "Leases lost while working (taken over or not renewed)."}),
		Lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sluice_changefeed_lag_seconds", Help: "Ingestion to processed, per change.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		HandleSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sluice_changefeed_handle_seconds", Help: "Handler time per batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		ReadSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sluice_changefeed_read_seconds", Help: "Time per feed read, empty or not.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		Late: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_changefeed_late_changes_total", Help: "Changes found behind the feed's tail, by the read that found them (recheck, sweep; settled: behind the settled cursor, the grace window is too short)."}, []string{"via"}),
	}
	reg.MustRegister(m.Changes, m.Batches, m.EmptyPolls, m.Commits, m.ReadRetries, m.HandleRetries, m.LeasesOwned, m.LeasesLost, m.Lag, m.HandleSeconds, m.ReadSeconds, m.Late)
	return m
}
