package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/progress"
)

// replicaPartitions is the partition count of each replica phase's topic:
// enough for three replicas to get two each.
const replicaPartitions = 6

// replicaRow is one replica phase's result.
type replicaRow struct {
	replicas int
	secs     float64 // first replica ready → every record marked
	stored   int     // distinct events of the phase found in events_by_id
	// writes are the successful upserts the replicas counted: a record
	// redelivered after a rebalance is written again, so writes - events
	// are the duplicate writes the idempotent upserts absorbed.
	writes   float64
	consumed float64
	cpuSecs  float64 // all replicas, from each one's readiness to the end
}

func (r replicaRow) rate(n int) float64 { return float64(n) / r.secs }

func (r replicaRow) cpuPer100k(n int) float64 { return r.cpuSecs / float64(n) * 100000 }

// measureReplicas runs the replica phases: for 1 … b.replicas replicas, a
// fresh topic of replicaPartitions partitions with a backlog of n fresh
// events (ids of their own, so what is stored is the phase's doing), and
// that many ingest processes in one fresh consumer group, started at once
// as a scaled-out Deployment would be.
func (b *ingestBench) measureReplicas(ctx context.Context) error {
	session, err := b.cc.Open()
	if err != nil {
		return err
	}
	defer session.Close()
	for r := 1; r <= b.replicas; r++ {
		row, err := b.replicaPhase(ctx, session, r)
		if err != nil {
			return fmt.Errorf("%d replicas: %w", r, err)
		}
		b.replicaRows = append(b.replicaRows, row)
	}
	return nil
}

func (b *ingestBench) replicaPhase(ctx context.Context, session *gocql.Session, r int) (replicaRow, error) {
	row := replicaRow{replicas: r}
	topic := fmt.Sprintf("%s-r%d", b.topic, r)
	events := make([]contract.Event, b.n)
	values := make([][]byte, b.n)
	for i := range events {
		rec := b.gen.Next(b.now)
		events[i], values[i] = *rec.Event, rec.Value
	}
	fmt.Printf("%d replica(s): producing a backlog of %d events to %s (%d partitions)\n", r, b.n, topic, replicaPartitions)
	b.replicaTopics = append(b.replicaTopics, topic)
	if err := kafkaclient.EnsureTopics(b.admin, []kafkaclient.Topic{{Name: topic, Partitions: replicaPartitions}, {Name: topic + ".dlq", Partitions: 1}}); err != nil {
		return row, err
	}
	sc, err := b.kc.Sarama(nil)
	if err != nil {
		return row, err
	}
	if err := produceBacklog(b.kc.Brokers, sc, topic, events, values); err != nil {
		return row, err
	}

	launch := b.lc.launcher(b.bin, fmt.Sprintf("bench-r%d-", r), "KAFKA_TOPIC="+topic, "KAFKA_DLQ_TOPIC="+topic+".dlq",
		"INGEST_GROUP="+topic, fmt.Sprintf("INGEST_CONCURRENCY=%d", b.conc), "LOG_LEVEL=warn")
	defer func() { _ = launch.StopAll() }()
	procs, cpu0, start, err := startReplicas(ctx, launch, filepath.Join(b.bin, "ingest"), r)
	if err != nil {
		return row, err
	}

	bar := progress.New(fmt.Sprintf("%d replica(s)", r), int64(b.n))
	deadline := start.Add(time.Duration(b.ceilingSecs*10+120) * time.Second)
	for {
		time.Sleep(scrapeEvery)
		done, written, err := allMarked(procs)
		if err != nil {
			return row, err
		}
		bar.Set(int64(min(written, float64(b.n))), "")
		if done {
			break
		}
		if time.Now().After(deadline) {
			return row, fmt.Errorf("ingest wrote %.0f of %d events before the deadline", written, b.n)
		}
	}
	row.secs = time.Since(start).Seconds()
	bar.Finish()
	for i, p := range procs {
		cpu, err := p.CPUSeconds()
		if err != nil {
			return row, err
		}
		row.cpuSecs += cpu - cpu0[i]
		mt, err := p.Metrics()
		if err != nil {
			return row, err
		}
		row.writes += mt["sluice_ingest_written_total"]
		row.consumed += mt["sluice_ingest_consumed_total"]
	}
	if err := launch.StopAll(); err != nil {
		return row, err
	}
	if row.stored, err = countStored(session, b.cc.Keyspace, events); err != nil {
		return row, err
	}
	if row.stored != b.n {
		return row, fmt.Errorf("%d of %d events stored although every record was marked", row.stored, b.n)
	}
	return row, nil
}

// startReplicas starts r ingest processes at once and returns them with
// the CPU time each had used when it became ready, and when the first
// became ready (it consumes from then on).
func startReplicas(ctx context.Context, launch *localrun.Launcher, binary string, r int) ([]*localrun.Proc, []float64, time.Time, error) {
	procs := make([]*localrun.Proc, r)
	cpu0 := make([]float64, r)
	ready := make([]time.Time, r)
	errs := make([]error, r)
	var wg sync.WaitGroup
	for i := range r {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := launch.Start(ctx, localrun.Spec{Name: fmt.Sprintf("ingest-%d", i+1), Binary: binary})
			if err != nil {
				errs[i] = err
				return
			}
			ready[i] = time.Now()
			procs[i] = p
			cpu0[i], errs[i] = p.CPUSeconds()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, time.Time{}, err
	}
	first := ready[0]
	for _, t := range ready[1:] {
		if t.Before(first) {
			first = t
		}
	}
	return procs, cpu0, first, nil
}

// allMarked reports whether the replicas have marked the last record of
// every partition, and the writes they counted. A replica's
// sluice_ingest_lag{partition} is the records left after its last mark on
// that partition (no series before its first mark); after a rebalance the
// previous owner's value goes stale, and the new owner resumes from what
// was committed, so the smallest value across replicas is the partition's.
// The backlog is produced before the replicas start, so the high-water
// mark every lag is measured against is final; a record is marked only
// once stored or dead-lettered, and a dead letter fails the benchmark.
// countStored checks the verdict against Cassandra afterwards.
func allMarked(procs []*localrun.Proc) (bool, float64, error) {
	lag := map[string]float64{}
	var written float64
	for _, p := range procs {
		series, err := p.Series()
		if err != nil {
			return false, 0, err
		}
		for s, v := range series {
			switch {
			case strings.HasPrefix(s, "sluice_ingest_lag{"):
				part, ok := localrun.Label(s, "partition")
				if !ok {
					continue
				}
				if old, seen := lag[part]; !seen || v < old {
					lag[part] = v
				}
			case s == "sluice_ingest_written_total":
				written += v
			case strings.HasPrefix(s, "sluice_ingest_dlq_total{") && v > 0:
				return false, 0, errors.New("ingest dead-lettered valid benchmark events; see the ingest logs")
			}
		}
	}
	if len(lag) < replicaPartitions {
		return false, written, nil
	}
	for _, v := range lag {
		if v > 0 {
			return false, written, nil
		}
	}
	return true, written, nil
}

// countStored counts the distinct events of evs that events_by_id holds,
// reading their ids in groups.
func countStored(session *gocql.Session, keyspace string, evs []contract.Event) (int, error) {
	const group = 100
	q := fmt.Sprintf("SELECT id FROM %s.%s WHERE id IN ?", keyspace, contract.TableEventsByID)
	found := 0
	for i := 0; i < len(evs); i += group {
		ids := make([]gocql.UUID, 0, group)
		for _, ev := range evs[i:min(i+group, len(evs))] {
			id, err := gocql.ParseUUID(ev.ID)
			if err != nil {
				return 0, fmt.Errorf("count stored: %w", err)
			}
			ids = append(ids, id)
		}
		iter := session.Query(q, ids).Iter()
		var id gocql.UUID
		for iter.Scan(&id) {
			found++
		}
		if err := iter.Close(); err != nil {
			return 0, fmt.Errorf("count stored: %w", err)
		}
	}
	return found, nil
}
