package consumerlag

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultCacheFor is how long a measurement answers repeated reads.
const DefaultCacheFor = 5 * time.Second

// Client is the part of sarama.Client a measurement needs.
type Client interface {
	RefreshMetadata(topics ...string) error
	Partitions(topic string) ([]int32, error)
	GetOffset(topic string, partition int32, time int64) (int64, error)
}

// Admin is the part of sarama.ClusterAdmin a measurement needs.
type Admin interface {
	ListConsumerGroupOffsets(group string, topicPartitions map[string][]int32) (*sarama.OffsetFetchResponse, error)
}

// Report is one measurement.
type Report struct {
	Group      string `json:"group"`
	Topic      string `json:"topic"`
	Lag        int64  `json:"lag"`
	Partitions int    `json:"partitions"`
	// PartitionLag is each partition's lag, keyed by partition number.
	PartitionLag map[string]int64 `json:"partitionLag"`
	MeasuredAt   time.Time        `json:"measuredAt"`
}

// Measurer measures one group's lag on one topic.
type Measurer struct {
	Client Client
	Admin  Admin
	Group  string
	Topic  string
	// CacheFor reuses a measurement this long; 0 means DefaultCacheFor.
	CacheFor time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	gauge prometheus.Gauge

	mu   sync.Mutex
	last Report
}

// New returns a Measurer; reg, when not nil, gets the gauge
// sluice_consumer_group_lag (records) updated at each measurement.
func New(client Client, admin Admin, group, topic string, reg prometheus.Registerer) *Measurer {
	m := &Measurer{Client: client, Admin: admin, Group: group, Topic: topic}
	if reg != nil {
		m.gauge = prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "sluice_consumer_group_lag",
			Help:        "Records the consumer group is behind on the topic, all partitions, at the last measurement.",
			ConstLabels: prometheus.Labels{"group": group, "topic": topic},
		})
		reg.MustRegister(m.gauge)
	}
	return m
}

func (m *Measurer) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Measure returns the group's lag, from the cache when a measurement is
// recent enough.
func (m *Measurer) Measure(ctx context.Context) (Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cacheFor := m.CacheFor
	if cacheFor == 0 {
		cacheFor = DefaultCacheFor
	}
	if !m.last.MeasuredAt.IsZero() && m.now().Sub(m.last.MeasuredAt) < cacheFor {
		return m.last, nil
	}
	if err := ctx.Err(); err != nil {
		return Report{}, fmt.Errorf("measure lag: %w", err)
	}
	r, err := m.measure()
	if err != nil {
		return Report{}, err
	}
	m.last = r
	if m.gauge != nil {
		m.gauge.Set(float64(r.Lag))
	}
	return r, nil
}

func (m *Measurer) measure() (Report, error) {
	if err := m.Client.RefreshMetadata(m.Topic); err != nil {
		return Report{}, fmt.Errorf("measure lag: metadata of %s: %w", m.Topic, err)
	}
	partitions, err := m.Client.Partitions(m.Topic)
	if err != nil {
		return Report{}, fmt.Errorf("measure lag: partitions of %s: %w", m.Topic, err)
	}
	if len(partitions) == 0 {
		return Report{}, fmt.Errorf("measure lag: topic %s has no partitions", m.Topic)
	}
	sort.Slice(partitions, func(i, j int) bool { return partitions[i] < partitions[j] })
	committed, err := m.Admin.ListConsumerGroupOffsets(m.Group, map[string][]int32{m.Topic: partitions})
	if err != nil {
		return Report{}, fmt.Errorf("measure lag: offsets of group %s: %w", m.Group, err)
	}
	if committed.Err != sarama.ErrNoError {
		return Report{}, fmt.Errorf("measure lag: offsets of group %s: %w", m.Group, committed.Err)
	}
	r := Report{Group: m.Group, Topic: m.Topic, Partitions: len(partitions), PartitionLag: map[string]int64{}, MeasuredAt: m.now().UTC()}
	for _, p := range partitions {
		newest, err := m.Client.GetOffset(m.Topic, p, sarama.OffsetNewest)
		if err != nil {
			return Report{}, fmt.Errorf("measure lag: newest offset of %s/%d: %w", m.Topic, p, err)
		}
		from := int64(-1)
		if block := committed.GetBlock(m.Topic, p); block != nil {
			if block.Err != sarama.ErrNoError {
				return Report{}, fmt.Errorf("measure lag: committed offset of %s/%d: %w", m.Topic, p, block.Err)
			}
			from = block.Offset
		}
		if from < 0 {
			// Nothing committed: the group starts at the oldest record.
			if from, err = m.Client.GetOffset(m.Topic, p, sarama.OffsetOldest); err != nil {
				return Report{}, fmt.Errorf("measure lag: oldest offset of %s/%d: %w", m.Topic, p, err)
			}
		}
		lag := max(newest-from, 0)
		r.PartitionLag[strconv.Itoa(int(p))] = lag
		r.Lag += lag
	}
	return r, nil
}

// ServeHTTP answers GET with the report as JSON, or 503 when the lag
// cannot be measured (KEDA then keeps its fallback replica count).
func (m *Measurer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
	defer cancel()
	r, err := m.Measure(ctx)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(r)
}
