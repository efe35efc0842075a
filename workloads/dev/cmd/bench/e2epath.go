package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/rtprobe"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

// The whole-path ceiling's burst: about e2ePathSeconds of the bare
// ceiling's events, within these bounds, delivered within e2ePathTimeout.
const (
	e2ePathSeconds   = 15
	e2ePathMinEvents = 5000
	e2ePathMaxEvents = 50000
	e2ePathTimeout   = 4 * time.Minute
)

// e2ePath is what the whole-path ceiling measured.
type e2ePath struct {
	events int64
	// stored and delivered are the rates at which ingest stored the
	// burst and the change feed delivered it to Redis, from the first
	// event produced; delivered is the path's ceiling.
	stored, delivered float64
	// complete is false when the change feed had not delivered every
	// event by e2ePathTimeout: delivered is then a floor.
	complete bool
}

// measurePath measures what the whole path carries on this machine: a
// scratch set of ingest, changefeed and api (the api polled as in the
// measured run) on a topic of its own, fed a burst at the bare ceiling's
// rate. The rate at which the change feed delivers the burst is the
// ceiling of the path, which shares the machine's cores with Kafka,
// Redis, the feed's reads and the api: a rate chosen from bare upserts
// alone can exceed it, and then the run measures only a growing backlog.
func (b *e2eBench) measurePath(ctx context.Context) error {
	topic := b.topic + "-ceiling"
	if err := kafkaclient.EnsureTopics(b.admin, []kafkaclient.Topic{{Name: topic, Partitions: 6}, {Name: topic + ".dlq", Partitions: 1}}); err != nil {
		return err
	}
	defer dropTopic(b.admin, topic)
	launch := b.lc.launcher(b.bin, "bench-e2e-ceiling-", "LOG_LEVEL=warn", "KAFKA_TOPIC="+topic, "KAFKA_DLQ_TOPIC="+topic+".dlq")
	launch.ReadyTimeout = 2 * time.Minute
	defer func() { _ = launch.StopAll() }()
	w, err := startE2EWorkloads(ctx, launch, fmt.Sprintf("bench-e2e-%d-ceiling", b.run))
	if err != nil {
		return fmt.Errorf("whole-path ceiling: %w", err)
	}
	probe := rtprobe.New("http://"+w.api.Addr, 60, b.poll)
	probe.Start(ctx, e2eSiteIDs())
	defer probe.Stop()

	n := int64(math.Min(math.Max(b.ceiling*e2ePathSeconds, e2ePathMinEvents), e2ePathMaxEvents))
	gen, err := simulate.NewGenerator(e2eSites, e2eDevices, b.mix(), uint64(b.run)+2)
	if err != nil {
		return err
	}
	ap, err := sarama.NewAsyncProducer(b.kc.Brokers, b.sc)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	prod := &simulate.Producer{AP: ap, Topic: topic, Gen: gen}
	fmt.Printf("whole-path ceiling: %d events at the bare ceiling's %.0f events/s through ingest → changefeed → api\n", n, b.ceiling)
	start := time.Now()
	produced := make(chan error, 1)
	go func() {
		_, err := prod.Run(ctx, simulate.Plan{Rate: b.ceiling, Count: n})
		produced <- err
	}()
	bar := progress.New("whole path", n)
	var delivered, stored float64
	storedAt := time.Duration(0)
	p := &b.path
	p.events = n
	for {
		select {
		case err := <-produced:
			if err != nil {
				bar.Finish()
				return fmt.Errorf("whole-path ceiling: %w", err)
			}
			produced = nil // done: a nil channel is never ready again
		case <-time.After(250 * time.Millisecond):
		}
		if mt, err := w.ingest.Metrics(); err == nil {
			stored = mt["sluice_ingest_written_total"] + mt["sluice_ingest_dlq_total"]
			if storedAt == 0 && stored >= float64(n) {
				storedAt = time.Since(start)
			}
		}
		if mt, err := w.changefeed.Metrics(); err == nil {
			delivered = mt["sluice_changefeed_changes_total"]
		}
		bar.Set(int64(delivered), fmt.Sprintf("%.0f stored", stored))
		if delivered >= float64(n) {
			p.complete = true
			break
		}
		if time.Since(start) > e2ePathTimeout {
			break
		}
	}
	elapsed := time.Since(start)
	bar.Finish()
	if produced != nil {
		if err := <-produced; err != nil {
			return fmt.Errorf("whole-path ceiling: %w", err)
		}
	}
	if storedAt == 0 {
		storedAt = elapsed
	}
	p.stored = stored / storedAt.Seconds()
	p.delivered = delivered / elapsed.Seconds()
	if !p.complete {
		fmt.Fprintf(os.Stderr, "whole-path ceiling: the change feed delivered %.0f of %d events within %s; the ceiling is a floor\n", delivered, n, e2ePathTimeout)
	}
	fmt.Printf("whole-path ceiling: stored %.0f events/s, delivered to redis %.0f events/s\n", p.stored, p.delivered)
	return nil
}

// e2eWorkloads are one set of the path's workloads.
type e2eWorkloads struct {
	changefeed, ingest, api *localrun.Proc
}

// startE2EWorkloads starts changefeed, ingest (writing the outbox) and api
// under name (the consumer group and the feed), each waited for until
// ready.
func startE2EWorkloads(ctx context.Context, launch *localrun.Launcher, name string) (e2eWorkloads, error) {
	var w e2eWorkloads
	for _, p := range []struct {
		proc **localrun.Proc
		spec localrun.Spec
	}{
		{&w.changefeed, localrun.Spec{Name: "changefeed", Env: []string{"CHANGEFEED_NAME=" + name}}},
		{&w.ingest, localrun.Spec{Name: "ingest", Env: []string{"INGEST_GROUP=" + name, "INGEST_OUTBOX=true"}}},
		{&w.api, localrun.Spec{Name: "api", Env: []string{"API_MODE=local"}}},
	} {
		proc, err := launch.Start(ctx, p.spec)
		if err != nil {
			return w, err
		}
		*p.proc = proc
	}
	return w, nil
}

// e2eSiteIDs are the ids of the benchmark fleet's sites.
func e2eSiteIDs() []string {
	fleet, _ := simulate.Fleet(e2eSites, e2eDevices)
	ids := make([]string, len(fleet))
	for i, s := range fleet {
		ids[i] = s.ID
	}
	return ids
}
