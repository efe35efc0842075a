package consumerlag

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeClient struct {
	newest, oldest map[int32]int64
	calls          int
	err            error
}

func (f *fakeClient) RefreshMetadata(...string) error { return f.err }
func (f *fakeClient) Partitions(string) ([]int32, error) {
	var ps []int32
	for p := range f.newest {
		ps = append(ps, p)
	}
	return ps, nil
}
func (f *fakeClient) GetOffset(_ string, p int32, which int64) (int64, error) {
	f.calls++
	if which == sarama.OffsetNewest {
		return f.newest[p], nil
	}
	return f.oldest[p], nil
}

type fakeAdmin struct {
	committed map[int32]int64
	err       error
}

func (f *fakeAdmin) ListConsumerGroupOffsets(_ string, tp map[string][]int32) (*sarama.OffsetFetchResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	r := &sarama.OffsetFetchResponse{}
	for topic, ps := range tp {
		for _, p := range ps {
			off, ok := f.committed[p]
			if !ok {
				off = -1
			}
			r.AddBlock(topic, p, &sarama.OffsetFetchResponseBlock{Offset: off, Err: sarama.ErrNoError})
		}
	}
	return r, nil
}

func TestMeasure(t *testing.T) {
	client := &fakeClient{
		newest: map[int32]int64{0: 100, 1: 50, 2: 7, 3: 40},
		oldest: map[int32]int64{0: 0, 1: 0, 2: 5, 3: 0},
	}
	// Partition 2 has nothing committed: it counts from the oldest
	// retained record (5), not from 0. Partition 3 committed past the
	// newest offset it was told (a race): its lag is 0, never negative.
	admin := &fakeAdmin{committed: map[int32]int64{0: 90, 1: 50, 3: 41}}
	reg := prometheus.NewRegistry()
	m := New(client, admin, "ingest", "events", reg)
	now := time.Unix(1_800_000_000, 0)
	m.Now = func() time.Time { return now }
	r, err := m.Measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Lag != 10+0+2+0 || r.Partitions != 4 || r.PartitionLag["0"] != 10 || r.PartitionLag["2"] != 2 || r.PartitionLag["3"] != 0 {
		t.Errorf("report %+v", r)
	}
	if got := testutil.ToFloat64(m.gauge); got != 12 {
		t.Errorf("gauge %v, want 12", got)
	}
	calls := client.calls
	client.newest[0] = 1000
	if again, _ := m.Measure(context.Background()); again.Lag != 12 || client.calls != calls {
		t.Errorf("a measurement within the cache period asked the brokers again (lag %d)", again.Lag)
	}
	now = now.Add(DefaultCacheFor)
	if fresh, _ := m.Measure(context.Background()); fresh.Lag != 910+2 {
		t.Errorf("after the cache period lag = %d, want 912", fresh.Lag)
	}
}

func TestServeHTTP(t *testing.T) {
	client := &fakeClient{newest: map[int32]int64{0: 30}, oldest: map[int32]int64{0: 0}}
	m := New(client, &fakeAdmin{committed: map[int32]int64{0: 10}}, "ingest", "events", nil)
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/lag", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	// KEDA's metrics-api trigger reads valueLocation "lag".
	if body["lag"] != 20.0 || body["group"] != "ingest" || body["topic"] != "events" {
		t.Errorf("body %v", body)
	}

	broken := New(&fakeClient{newest: map[int32]int64{0: 1}}, &fakeAdmin{err: errors.New("coordinator unavailable")}, "ingest", "events", nil)
	rec = httptest.NewRecorder()
	broken.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/lag", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "coordinator unavailable") {
		t.Errorf("failed measurement: status %d body %s", rec.Code, rec.Body)
	}
	if _, err := New(&fakeClient{err: errors.New("no brokers")}, &fakeAdmin{}, "g", "t", nil).Measure(context.Background()); err == nil {
		t.Error("a metadata failure was not reported")
	}
}
