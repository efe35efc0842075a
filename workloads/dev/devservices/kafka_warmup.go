package devservices

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// WarmupTopicPrefix starts the name of Kafka's warm-up scratch topic (the
// rest is the start time), deleted when the warm-up ends; one left behind
// by a killed run is deleted by the next warm-up.
const WarmupTopicPrefix = "devservices-warmup-"

// The Kafka warm-up's shape: synchronous produce requests of
// kafkaWarmBatch records of an event's size, acks from all replicas as the
// workloads' producers ask, on a 6-partition topic like the events', while
// a consumer fetches every partition; at least kafkaWarmMin records, then
// until the produce and the produce → fetch latencies settle.
const (
	kafkaWarmProducers   = 4
	kafkaWarmBatch       = 50
	kafkaWarmRecordBytes = 300
	kafkaWarmPartitions  = 6
	kafkaWarmMin         = 50000
	kafkaWarmWindow      = 200 // produce requests per window
	kafkaWarmProduceP99  = 20 * time.Millisecond
	kafkaWarmFetchP99    = 50 * time.Millisecond
)

func kafkaWarmConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "devservices-warmup"
	cfg.Version = sarama.V1_0_0_0
	cfg.Net.DialTimeout = 3 * time.Second
	cfg.Net.ReadTimeout = 10 * time.Second
	cfg.Net.WriteTimeout = 10 * time.Second
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 0
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Fetch.Default = 1 << 20
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
	return cfg
}

// warmUp creates a scratch topic, produces to it and fetches from it until
// the latencies settle or ctx ends, and deletes it.
func (k *kafkaService) warmUp(ctx context.Context, status func(string, ...any)) (res Warmup, err error) {
	cfg := kafkaWarmConfig()
	addrs := []string{hostPort(KafkaBrokerPort)}
	client, err := sarama.NewClient(addrs, cfg)
	if err != nil {
		return res, fmt.Errorf("connect %s: %w", addrs[0], err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return res, fmt.Errorf("cluster admin: %w", err)
	}
	if err := deleteWarmupTopics(admin); err != nil {
		return res, err
	}
	topic := WarmupTopicPrefix + strconv.FormatInt(time.Now().UnixNano(), 10)
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: kafkaWarmPartitions, ReplicationFactor: 1}, false); err != nil {
		return res, fmt.Errorf("create topic %s: %w", topic, err)
	}
	defer func() {
		if derr := admin.DeleteTopic(topic); derr != nil && err == nil {
			err = fmt.Errorf("delete topic %s: %w", topic, derr)
		}
	}()
	if err := waitTopic(ctx, client, topic); err != nil {
		return res, err
	}

	produce := &syncSettler{s: newSettler(kafkaWarmWindow, kafkaWarmMin/kafkaWarmBatch, kafkaWarmProduceP99, warmPlateau)}
	fetch := &syncSettler{s: newSettler(kafkaWarmWindow*kafkaWarmBatch, kafkaWarmMin, kafkaWarmFetchP99, warmPlateau)}

	cctx, stopFetching := context.WithCancel(ctx)
	fetched, err := k.warmFetch(cctx, client, topic, fetch)
	if err != nil {
		stopFetching()
		return res, err
	}
	producers := make([]sarama.SyncProducer, kafkaWarmProducers)
	for i := range producers {
		// Their own clients: the topic's metadata is fresh in the shared
		// one, but one connection would serialise the producers.
		p, err := sarama.NewSyncProducer(addrs, cfg)
		if err != nil {
			stopFetching()
			for _, q := range producers[:i] {
				q.Close()
			}
			return res, fmt.Errorf("producer: %w", err)
		}
		producers[i] = p
	}
	filler := make([]byte, kafkaWarmRecordBytes-8)
	for i := range filler {
		filler[i] = byte('a' + i%26)
	}
	op := func(ctx context.Context, worker, i int) error {
		msgs := make([]*sarama.ProducerMessage, kafkaWarmBatch)
		now := time.Now().UnixNano()
		for j := range msgs {
			v := make([]byte, kafkaWarmRecordBytes)
			binary.BigEndian.PutUint64(v, uint64(now))
			copy(v[8:], filler)
			msgs[j] = &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(v)}
		}
		return producers[worker].SendMessages(msgs)
	}
	stopStatus := tick(time.Second, func() {
		p, f := produce.last("produce"), fetch.last("produce→fetch")
		status("%d records, produce p99 %s, produce→fetch p99 %s", produce.count()*kafkaWarmBatch, fmtMS(p.P99), fmtMS(f.P99))
	})
	ops, failed := runTimed(ctx, kafkaWarmProducers, op, func(d time.Duration) { produce.add(d) },
		func() bool { return produce.done() && fetch.done() })
	stopStatus()
	stopFetching()
	n := fetched()
	for _, p := range producers {
		p.Close()
	}
	res.Ops, res.Errors = ops, failed
	res.Settled = produce.done() && fetch.done()
	res.Paths = []PathLatency{produce.last("produce"), fetch.last("produce→fetch")}
	if ops > 0 && failed == ops {
		return res, fmt.Errorf("every one of %d produce requests failed", ops)
	}
	if ops > failed && n == 0 {
		return res, errors.New("nothing produced was fetched back")
	}
	return res, nil
}

// warmFetch consumes every partition of topic from the start, feeding each
// record's produce → fetch latency to s; the returned func waits for the
// consumers (after ctx is cancelled) and returns how many records came.
func (k *kafkaService) warmFetch(ctx context.Context, client sarama.Client, topic string, s *syncSettler) (func() int, error) {
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for p := int32(0); p < kafkaWarmPartitions; p++ {
		pc, err := consumePartition(ctx, client, consumer, topic, p)
		if err != nil {
			consumer.Close()
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.AsyncClose()
			for {
				select {
				case <-ctx.Done():
					return
				case msg := <-pc.Messages():
					if msg == nil || len(msg.Value) < 8 {
						continue
					}
					sent := time.Unix(0, int64(binary.BigEndian.Uint64(msg.Value)))
					s.add(time.Since(sent))
					mu.Lock()
					n++
					mu.Unlock()
				case <-pc.Errors():
				}
			}
		}()
	}
	return func() int {
		wg.Wait()
		consumer.Close()
		mu.Lock()
		defer mu.Unlock()
		return n
	}, nil
}

// consumePartition starts consuming a new topic's partition, retrying
// while the broker has yet to learn it leads it (metadata the controller
// has published reaches the broker a moment later).
func consumePartition(ctx context.Context, client sarama.Client, consumer sarama.Consumer, topic string, p int32) (sarama.PartitionConsumer, error) {
	for {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err == nil {
			return pc, nil
		}
		if !errors.Is(err, sarama.ErrNotLeaderForPartition) && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) &&
			!errors.Is(err, sarama.ErrLeaderNotAvailable) {
			return nil, fmt.Errorf("consume %s/%d: %w", topic, p, err)
		}
		_ = client.RefreshMetadata(topic) // the retry reports what still fails
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("consume %s/%d: %w (last: %v)", topic, p, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitTopic waits until the new topic has a leader for every partition.
func waitTopic(ctx context.Context, client sarama.Client, topic string) error {
	for {
		if err := client.RefreshMetadata(topic); err == nil {
			parts, err := client.Partitions(topic)
			ready := err == nil && len(parts) == kafkaWarmPartitions
			for _, p := range parts {
				if _, lerr := client.Leader(topic, p); lerr != nil {
					ready = false
				}
			}
			if ready {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %s has no leaders: %w", topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// deleteWarmupTopics deletes scratch topics a killed warm-up left behind.
func deleteWarmupTopics(admin sarama.ClusterAdmin) error {
	topics, err := admin.ListTopics()
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	for name := range topics {
		if len(name) > len(WarmupTopicPrefix) && name[:len(WarmupTopicPrefix)] == WarmupTopicPrefix {
			if err := admin.DeleteTopic(name); err != nil {
				return fmt.Errorf("delete leftover topic %s: %w", name, err)
			}
		}
	}
	return nil
}
