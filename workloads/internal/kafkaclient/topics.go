package kafkaclient

import (
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// Topic is a topic to create with its partition count.
type Topic struct {
	Name       string
	Partitions int32
	// RetentionMs is the topic's retention; 0 keeps the broker default.
	RetentionMs int64
}

// EnsureTopics creates the topics that do not exist yet. On Event Hubs the
// hubs are infrastructure (the Pulumi program creates them), so this is for
// plain Kafka. An existing topic with fewer partitions than asked is an
// error: silently running with fewer would cap the consumers' parallelism.
func EnsureTopics(admin sarama.ClusterAdmin, topics []Topic) error {
	existing, err := admin.ListTopics()
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	for _, t := range topics {
		if d, ok := existing[t.Name]; ok {
			if d.NumPartitions < t.Partitions {
				return fmt.Errorf("topic %s has %d partitions, want at least %d", t.Name, d.NumPartitions, t.Partitions)
			}
			continue
		}
		detail := &sarama.TopicDetail{NumPartitions: t.Partitions, ReplicationFactor: 1, ConfigEntries: map[string]*string{}}
		if t.RetentionMs > 0 {
			v := fmt.Sprint(t.RetentionMs)
			detail.ConfigEntries["retention.ms"] = &v
		}
		if err := admin.CreateTopic(t.Name, detail, false); err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t.Name, err)
		}
	}
	return nil
}
