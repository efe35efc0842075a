//go:build integration

package sparkrun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/gocql/gocql"
	"github.com/google/uuid"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/sparkrun"
)

// Settings of the runs; the expectations below depend on them.
const (
	watermark = 2 * time.Minute
	silence   = 3 * time.Minute
)

type stream struct {
	t       *testing.T
	ep      devservices.Endpoints
	session *gocql.Session
	topic   string
	prod    sarama.SyncProducer
	job     sparkrun.Job
	ckpt    string
	logs    string
	runs    int
	now     time.Time
}

func newStream(t *testing.T) *stream {
	ep := itest.Up(t, devservices.Kafka, devservices.Cassandra)
	session, _ := itest.Cassandra(t, ep)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	m := itest.Manager(t)
	job, err := sparkrun.Prepare(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{t: t, ep: ep, session: session, topic: itest.Name("spark-events"), job: job,
		ckpt: t.TempDir(), logs: t.TempDir(), now: time.Now().UTC()}
	itest.Topics(t, ep, map[string]int32{s.topic: 4})
	_, sc := itest.Kafka(t, ep, s.topic, s.topic+".dlq")
	s.prod, err = sarama.NewSyncProducer(ep.KafkaBrokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.prod.Close() })
	return s
}

// send produces raw records, spread over the partitions by index.
func (s *stream) send(records ...[]byte) {
	s.t.Helper()
	msgs := make([]*sarama.ProducerMessage, len(records))
	for i, r := range records {
		msgs[i] = &sarama.ProducerMessage{Topic: s.topic, Key: sarama.StringEncoder(fmt.Sprint(i % 7)), Value: sarama.ByteEncoder(r)}
	}
	if err := s.prod.SendMessages(msgs); err != nil {
		s.t.Fatal(err)
	}
}

// run runs the stream job over what the topic holds (available-now) and
// waits for it to end.
func (s *stream) run() {
	s.t.Helper()
	s.runs++
	log := filepath.Join(s.logs, fmt.Sprintf("run-%d.log", s.runs))
	env := []string{"KAFKA_TOPIC=" + s.topic, "SPARK_CHECKPOINT=" + s.ckpt, "SPARK_TRIGGER=available-now",
		"SPARK_WATERMARK=" + watermark.String(), "SPARK_SILENCE_AFTER=" + silence.String(), "SPARK_GROUP_PREFIX=" + s.topic}
	for _, kv := range s.ep.Env() {
		env = append(env, kv[0]+"="+kv[1])
	}
	p, err := sparkrun.Start(sparkrun.Options{Job: s.job, Env: env, Log: log})
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	begin := time.Now()
	if err := p.Wait(ctx); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("stream job run %d took %s", s.runs, time.Since(begin).Round(time.Second))
}

// minuteKey is one row of site_minutes.
type minuteKey struct {
	site, kind, unit string
	minute           time.Time
}

// agg is a minute's expected aggregate, computed here independently of
// Spark: ids counted once, the sum exact until rounded once.
type agg struct {
	ids      map[string]bool
	min, max float64
	sum      *big.Float
}

type expectation struct {
	minutes  map[minuteKey]*agg
	lastSeen map[string]time.Time // per device
}

func newExpectation() *expectation {
	return &expectation{minutes: map[minuteKey]*agg{}, lastSeen: map[string]time.Time{}}
}

// add counts an event the job must count.
func (x *expectation) add(e contract.Event) {
	k := minuteKey{e.Site, e.Kind, e.Unit, e.At.Truncate(time.Minute)}
	a := x.minutes[k]
	if a == nil {
		a = &agg{ids: map[string]bool{}, sum: new(big.Float).SetPrec(4096)}
		x.minutes[k] = a
	}
	if a.ids[e.ID] {
		return
	}
	if len(a.ids) == 0 || e.Value < a.min {
		a.min = e.Value
	}
	if len(a.ids) == 0 || e.Value > a.max {
		a.max = e.Value
	}
	a.ids[e.ID] = true
	a.sum.Add(a.sum, new(big.Float).SetPrec(4096).SetFloat64(e.Value))
	if e.At.After(x.lastSeen[e.Device]) {
		x.lastSeen[e.Device] = e.At
	}
}

type minuteRow struct {
	events              int64
	min, max, sum, mean float64
}

// check compares site_minutes for sites with the expectation, exactly.
func (s *stream) check(x *expectation, sites []string) {
	s.t.Helper()
	got := map[minuteKey]minuteRow{}
	days := map[time.Time]bool{}
	for k := range x.minutes {
		days[contract.Day(k.minute)] = true
	}
	for _, site := range sites {
		for day := range days {
			iter := s.session.Query(`SELECT kind, minute, unit, events, min_value, max_value, sum_value, mean_value FROM site_minutes
				WHERE site = ? AND day = ?`, site, day).Iter()
			var (
				kind, unit string
				minute     time.Time
				r          minuteRow
			)
			for iter.Scan(&kind, &minute, &unit, &r.events, &r.min, &r.max, &r.sum, &r.mean) {
				got[minuteKey{site, kind, unit, minute.UTC()}] = r
			}
			if err := iter.Close(); err != nil {
				s.t.Fatal(err)
			}
		}
	}
	var keys []minuteKey
	for k := range x.minutes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	bad := 0
	for _, k := range keys {
		a := x.minutes[k]
		sum, _ := a.sum.Float64()
		want := minuteRow{events: int64(len(a.ids)), min: a.min, max: a.max, sum: sum, mean: sum / float64(len(a.ids))}
		if g, ok := got[k]; !ok || g != want {
			bad++
			if bad <= 10 {
				s.t.Errorf("%s %s %s %s: got %+v (present %v), want %+v", k.site, k.kind, k.unit, k.minute.Format("15:04"), g, ok, want)
			}
		}
		delete(got, k)
	}
	for k, g := range got {
		bad++
		if bad <= 20 {
			s.t.Errorf("unexpected row %s %s %s %s: %+v", k.site, k.kind, k.unit, k.minute.Format("15:04"), g)
		}
	}
	if bad > 0 {
		s.t.Fatalf("%d of %d minutes differ (job logs: %s)", bad, len(x.minutes), s.logs)
	}
	s.t.Logf("%d minutes match exactly", len(x.minutes))
}

// silentRow reads a device's silent_devices row.
func (s *stream) silentRow(site, device string) (silent bool, lastSeen, changedAt time.Time, ok bool) {
	err := s.session.Query(`SELECT silent, last_seen, changed_at FROM silent_devices WHERE site = ? AND device = ?`, site, device).
		Scan(&silent, &lastSeen, &changedAt)
	if err == gocql.ErrNotFound {
		return false, time.Time{}, time.Time{}, false
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return silent, lastSeen.UTC(), changedAt.UTC(), true
}

func event(site, device, kind, unit string, at time.Time, value float64) contract.Event {
	return contract.Event{V: contract.SchemaVersion, ID: uuid.NewString(), Site: site, Device: device, Kind: kind, Unit: unit,
		Value: value, Severity: contract.SeverityInfo, At: at}
}

func marshal(t *testing.T, e contract.Event) []byte {
	t.Helper()
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invalidRecords are records the Go decoder rejects, each for another
// rule, built from a valid event of site.
func invalidRecords(t *testing.T, site string, at time.Time) [][]byte {
	base := event(site, "inv-1", "co2", "ppm", at, 999)
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(marshal(t, base), &m); err != nil {
			t.Fatal(err)
		}
		m["id"] = uuid.NewString()
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return [][]byte{
		[]byte(`{"v":1,"id":[[[`),
		mutate(func(m map[string]any) { delete(m, "id") }),
		mutate(func(m map[string]any) { m["id"] = "not-a-uuid" }),
		mutate(func(m map[string]any) { m["severity"] = "panic" }),
		mutate(func(m map[string]any) { m["at"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano) }),
		mutate(func(m map[string]any) { m["at"] = at.Format("2006-01-02 15:04:05") }),
		mutate(func(m map[string]any) { m["site"] = "site with spaces" }),
		mutate(func(m map[string]any) { m["site"] = site + "\n" }),
		mutate(func(m map[string]any) { m["kind"] = "CO2" }),
		mutate(func(m map[string]any) { m["value"] = "hot" }),
		mutate(func(m map[string]any) { m["value"] = "NaN" }),
		mutate(func(m map[string]any) { m["v"] = 2 }),
		mutate(func(m map[string]any) { m["unit"] = strings.Repeat("u", contract.MaxUnitLen+1) }),
		mutate(func(m map[string]any) {
			attrs := map[string]string{}
			for i := 0; i <= contract.MaxAttrs; i++ {
				attrs[fmt.Sprintf("k%d", i)] = "v"
			}
			m["attrs"] = attrs
		}),
		mutate(func(m map[string]any) { m["attrs"] = map[string]string{"": "empty key"} }),
		[]byte(strings.Replace(string(marshal(t, base)), `"value":999`, `"value":1e400`, 1)),
		[]byte{0xff, 0xfe, '{', '}'},
	}
}

// TestStreamJobAggregatesExactlyAndResumesFromItsCheckpoint produces a known
// stream (duplicates and invalid records included), runs the job over it,
// restarts it from its checkpoint over late, duplicate and new events, and
// compares every minute with aggregates computed here; a device that stops
// reporting is found silent and, once back, reporting.
func TestStreamJobAggregatesExactlyAndResumesFromItsCheckpoint(t *testing.T) {
	s := newStream(t)
	prefix := strings.ToLower(strings.ReplaceAll(itest.Name("sp"), "_", "-"))
	sites := []string{prefix + "-a", prefix + "-b"}
	t0 := s.now.Truncate(time.Minute).Add(-30 * time.Minute)
	rng := rand.New(rand.NewPCG(7, 11))
	x := newExpectation()
	quiet := sites[0] + "-quiet"

	// Run 1: 15 minutes of events from six devices; "quiet" stops after
	// three minutes. One record in ten is sent twice.
	var records [][]byte
	var maxAt time.Time
	for m := 0; m < 15; m++ {
		for d := 0; d < 6; d++ {
			site := sites[d%2]
			device := fmt.Sprintf("%s-d%d", site, d)
			kind, unit := "co2", "ppm"
			if d >= 4 {
				kind, unit = "temperature", "C"
			}
			if d == 0 {
				device = quiet
				if m >= 3 {
					continue
				}
			}
			for i := 0; i < 3+rng.IntN(4); i++ {
				at := t0.Add(time.Duration(m)*time.Minute + time.Duration(rng.IntN(60_000))*time.Millisecond + time.Duration(rng.IntN(1000))*time.Microsecond)
				e := event(site, device, kind, unit, at, float64(rng.IntN(300_000))/100)
				b := marshal(t, e)
				if rng.IntN(10) == 0 {
					records = append(records, b)
				}
				if rng.IntN(9) == 0 {
					// The same event with an upper-case id and a zone offset: one event.
					b = []byte(strings.Replace(strings.Replace(string(b), e.ID, strings.ToUpper(e.ID), 1),
						`"at":"`+e.At.Format(time.RFC3339Nano)+`"`, `"at":"`+e.At.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)+`"`, 1))
				}
				records = append(records, b)
			}
		}
	}
	records = append(records, invalidRecords(t, sites[1], t0.Add(5*time.Minute))...)
	rng.Shuffle(len(records), func(i, j int) { records[i], records[j] = records[j], records[i] })
	for _, r := range records {
		e, err := contract.Decode(r, time.Now())
		if err != nil {
			continue
		}
		x.add(e)
		if e.At.After(maxAt) {
			maxAt = e.At
		}
	}
	s.send(records...)
	s.run()
	s.check(x, sites)

	silent, lastSeen, changedAt, ok := s.silentRow(sites[0], quiet)
	if !ok || !silent || !lastSeen.Equal(x.lastSeen[quiet].Truncate(time.Millisecond)) || !changedAt.Equal(lastSeen.Add(silence)) {
		t.Errorf("quiet device after run 1: silent %v, last seen %s (want %s), changed at %s, present %v",
			silent, lastSeen, x.lastSeen[quiet], changedAt, ok)
	}
	for d := 1; d < 6; d++ {
		site := sites[d%2]
		if _, _, _, ok := s.silentRow(site, fmt.Sprintf("%s-d%d", site, d)); ok {
			t.Errorf("device %d reported throughout but has a silent_devices row", d)
		}
	}

	// Run 2, from the checkpoint: events inside the watermark join their
	// minutes, events behind it are dropped, duplicates of counted events
	// count nothing, and the quiet device reports again.
	wm := maxAt.Add(-watermark)
	var more [][]byte
	inside := event(sites[1], sites[1]+"-d1", "co2", "ppm", wm.Add(30*time.Second), 1234.56)
	late := event(sites[1], sites[1]+"-d1", "co2", "ppm", wm.Add(-5*time.Minute), 9999)
	more = append(more, marshal(t, inside), marshal(t, late), records[0], records[1], records[2])
	back := event(sites[0], quiet, "co2", "ppm", maxAt.Add(10*time.Second), 700.25)
	more = append(more, marshal(t, back))
	for i := 0; i < 20; i++ {
		e := event(sites[1], sites[1]+"-d3", "co2", "ppm", maxAt.Add(time.Duration(i)*7*time.Second), float64(i)+0.1)
		more = append(more, marshal(t, e))
		x.add(e)
	}
	x.add(inside)
	x.add(back)
	s.send(more...)
	s.run()
	s.check(x, sites)
	silent, lastSeen, _, ok = s.silentRow(sites[0], quiet)
	if !ok || silent || !lastSeen.Equal(back.At.Truncate(time.Millisecond)) {
		t.Errorf("quiet device after it reported again: silent %v, last seen %s (want %s), present %v", silent, lastSeen, back.At, ok)
	}
}
