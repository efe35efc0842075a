package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/workloads/internal/doccache"
)

// Metrics are the API's Prometheus series. The cache hit ratio is
// hits / (hits + misses + bypassed) of Redis; the in-process cache of event
// documents in front of it has series of its own (sluice_api_local_cache_*).
type Metrics struct {
	Requests    *prometheus.CounterVec
	Seconds     *prometheus.HistogramVec
	CacheHits   *prometheus.CounterVec
	CacheMisses *prometheus.CounterVec
	CacheBypass *prometheus.CounterVec
	CacheErrors prometheus.Counter
	StoreReads  *prometheus.CounterVec
	Shared      prometheus.Counter
	RateLimited prometheus.Counter
	LocalHits   prometheus.Counter
	LocalMisses prometheus.Counter
}

// NewMetrics registers the metrics on reg; events is the in-process cache
// of event documents, nil when it is off (its series then stay at 0).
func NewMetrics(reg prometheus.Registerer, events *doccache.Cache) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_api_requests_total", Help: "Requests by route and status code."}, []string{"route", "code"}),
		Seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_api_request_seconds", Help: "Request duration by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"}),
		CacheHits:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_api_cache_hits_total", Help: "Reads answered from Redis."}, []string{"route"}),
		CacheMisses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_api_cache_misses_total", Help: "Reads Redis did not hold, answered from Cassandra and filled."}, []string{"route"}),
		CacheBypass: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_api_cache_bypass_total", Help: "Reads answered from Cassandra because Redis failed or was skipped."}, []string{"route"}),
		CacheErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_api_cache_errors_total", Help: "Redis calls that failed or timed out."}),
		StoreReads:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_api_store_reads_total", Help: "Cassandra reads by kind."}, []string{"kind"}),
		Shared:      prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_api_singleflight_shared_total", Help: "Requests answered by a Cassandra read that several concurrent requests shared."}),
		RateLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_api_rate_limited_total", Help: "Requests refused with 429 because their API key was over its rate."}),
		LocalHits:   prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_api_local_cache_hits_total", Help: "Event reads answered from the in-process cache, before Redis."}),
		LocalMisses: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_api_local_cache_misses_total", Help: "Event reads the in-process cache did not hold, passed on to Redis."}),
	}
	stats := func() doccache.Stats {
		if events == nil {
			return doccache.Stats{}
		}
		return events.Stats()
	}
	reg.MustRegister(m.Requests, m.Seconds, m.CacheHits, m.CacheMisses, m.CacheBypass, m.CacheErrors, m.StoreReads, m.Shared, m.RateLimited, m.LocalHits, m.LocalMisses,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sluice_api_local_cache_evictions_total", Help: "Event documents the in-process cache evicted to stay within its bounds."},
			func() float64 { return float64(stats().Evictions) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_api_local_cache_bytes", Help: "Bytes the in-process cache of event documents holds (documents, ids and a per-entry overhead)."},
			func() float64 { return float64(stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sluice_api_local_cache_entries", Help: "Event documents the in-process cache holds."},
			func() float64 { return float64(stats().Entries) }))
	return m
}
