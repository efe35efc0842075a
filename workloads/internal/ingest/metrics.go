package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest worker's Prometheus series.
type Metrics struct {
	Consumed     prometheus.Counter
	Written      prometheus.Counter
	DeadLettered *prometheus.CounterVec
	Retries      prometheus.Counter
	WriteSeconds prometheus.Histogram
	EventAge     prometheus.Histogram
	Lag          *prometheus.GaugeVec
	InFlight     prometheus.Gauge
	// StoreStalled is the number of writes retrying a store error that is
	// not about their event (a table missing, a permission revoked): above
	// zero, the partitions stall until an operator fixes the store.
	StoreStalled prometheus.Gauge
}

// NewMetrics registers the series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_ingest_consumed_total", Help: "Records read from Kafka."}),
		Written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_ingest_written_total", Help: "Events durably written to Cassandra."}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ingest_dlq_total", Help: "Records sent to the dead-letter topic, by reason."}, []string{"reason"}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_ingest_retries_total", Help: "Retried storage or dead-letter writes."}),
		WriteSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sluice_ingest_write_seconds", Help: "Time to make one event durable, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		EventAge: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sluice_ingest_event_age_seconds", Help: "Event time to durable write: produce-to-stored latency for live events.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18)}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_ingest_lag", Help: "Records behind the partition's high-water mark at the last mark."}, []string{"topic", "partition"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_ingest_inflight", Help: "Records being written now."}),
		StoreStalled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_ingest_store_stalled", Help: "Writes retrying a store error not about their event (schema missing, permission revoked); above 0 ingest is stalled."}),
	}
	m.DeadLettered.WithLabelValues(KindInvalid)
	m.DeadLettered.WithLabelValues(KindStore)
	reg.MustRegister(m.Consumed, m.Written, m.DeadLettered, m.Retries, m.WriteSeconds, m.EventAge, m.Lag, m.InFlight, m.StoreStalled)
	return m
}
