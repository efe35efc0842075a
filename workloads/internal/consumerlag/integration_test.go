//go:build integration

package consumerlag

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
)

// TestIntegrationLagOnKafka measures a group on the local Kafka with the
// Event Hubs-safe client settings the workloads use: produced records count
// as lag until the group commits past them.
func TestIntegrationLagOnKafka(t *testing.T) {
	ep := itest.Up(t, devservices.Kafka)
	topic, group := itest.Name("lag"), itest.Name("lag_group")
	itest.Topics(t, ep, map[string]int32{topic: 3})
	_, sc := itest.Kafka(t, ep, topic, topic+".dlq")

	client, err := sarama.NewClient(ep.KafkaBrokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	const records = 30
	for i := 0; i < records; i++ {
		msg := &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.StringEncoder("x")}
		if _, _, err := producer.SendMessage(msg); err != nil {
			t.Fatal(err)
		}
	}
	m := New(client, admin, group, topic, nil)
	m.CacheFor = time.Nanosecond
	ctx := context.Background()
	r, err := m.Measure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Lag != records || r.Partitions != 3 {
		t.Fatalf("a group that committed nothing: %+v, want lag %d on 3 partitions", r, records)
	}
	onZero := r.PartitionLag["0"]
	if onZero < 4 {
		t.Fatalf("partition 0 got %d records; the keys should spread over all partitions", onZero)
	}

	// The group commits 4 records of partition 0.
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		t.Fatal(err)
	}
	pom, err := om.ManagePartition(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	pom.MarkOffset(4, "")
	om.Commit()
	if err := pom.Close(); err != nil {
		t.Fatal(err)
	}
	if err := om.Close(); err != nil {
		t.Fatal(err)
	}
	itest.Eventually(t, 30*time.Second, func() error {
		r, err := m.Measure(ctx)
		if err != nil {
			return err
		}
		if r.Lag != records-4 || r.PartitionLag["0"] != onZero-4 {
			return fmt.Errorf("after committing 4 records: %+v", r)
		}
		return nil
	})
}
