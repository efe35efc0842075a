package ingest

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"
)

// Dead-letter header names.
const (
	HeaderError          = "error"
	HeaderErrorKind      = "error-kind"
	HeaderSourceTopic    = "source-topic"
	HeaderSourcePart     = "source-partition"
	HeaderSourceOffset   = "source-offset"
	HeaderDeadLetteredAt = "dead-lettered-at"
	HeaderTruncated      = "value-truncated"
	HeaderOriginalBytes  = "original-bytes"
)

// maxDeadLetterValue keeps a dead letter, headers included, under the
// producer's 1,000,000-byte limit. A longer value is cut to it and flagged:
// the full record stays in the source topic at the offset the headers name.
const maxDeadLetterValue = 512 * 1024

// maxErrorHeader bounds the error text copied into a header.
const maxErrorHeader = 4096

// KafkaDeadLetters writes dead letters to a Kafka topic.
type KafkaDeadLetters struct {
	Producer sarama.SyncProducer
	Topic    string
	Now      func() time.Time
}

var _ DeadLetters = (*KafkaDeadLetters)(nil)

// Send implements DeadLetters. The key and the original headers are kept.
func (d *KafkaDeadLetters) Send(_ context.Context, rec *sarama.ConsumerMessage, kind string, cause error) error {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	msg := DeadLetter(rec, kind, cause, now())
	msg.Topic = d.Topic
	if _, _, err := d.Producer.SendMessage(msg); err != nil {
		return fmt.Errorf("produce dead letter to %s: %w", d.Topic, err)
	}
	return nil
}

// DeadLetter builds the dead-letter record for rec; its Topic is left empty.
func DeadLetter(rec *sarama.ConsumerMessage, kind string, cause error, at time.Time) *sarama.ProducerMessage {
	errText := cause.Error()
	if len(errText) > maxErrorHeader {
		errText = errText[:maxErrorHeader]
	}
	headers := make([]sarama.RecordHeader, 0, len(rec.Headers)+8)
	for _, h := range rec.Headers {
		if h != nil {
			headers = append(headers, *h)
		}
	}
	headers = append(headers,
		sarama.RecordHeader{Key: []byte(HeaderError), Value: []byte(errText)},
		sarama.RecordHeader{Key: []byte(HeaderErrorKind), Value: []byte(kind)},
		sarama.RecordHeader{Key: []byte(HeaderSourceTopic), Value: []byte(rec.Topic)},
		sarama.RecordHeader{Key: []byte(HeaderSourcePart), Value: []byte(strconv.Itoa(int(rec.Partition)))},
		sarama.RecordHeader{Key: []byte(HeaderSourceOffset), Value: []byte(strconv.FormatInt(rec.Offset, 10))},
		sarama.RecordHeader{Key: []byte(HeaderDeadLetteredAt), Value: []byte(at.UTC().Format(time.RFC3339Nano))},
	)
	value := rec.Value
	if len(value) > maxDeadLetterValue {
		headers = append(headers,
			sarama.RecordHeader{Key: []byte(HeaderTruncated), Value: []byte("true")},
			sarama.RecordHeader{Key: []byte(HeaderOriginalBytes), Value: []byte(strconv.Itoa(len(value)))})
		value = value[:maxDeadLetterValue]
	}
	msg := &sarama.ProducerMessage{Headers: headers, Value: sarama.ByteEncoder(value)}
	if rec.Key != nil {
		msg.Key = sarama.ByteEncoder(rec.Key)
	}
	return msg
}
