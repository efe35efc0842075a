package ingest

import (
	"context"
	"errors"
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
	// HeaderKeyTruncated ("true") marks a key cut to maxDeadLetterKey;
	// HeaderOriginalKeyBytes is its length before.
	HeaderKeyTruncated     = "key-truncated"
	HeaderOriginalKeyBytes = "original-key-bytes"
	// HeaderHeadersDropped is how many of the record's headers were left
	// out to fit maxDeadLetterHeaders; HeaderOriginalHeaderBytes is the
	// size of all of them.
	HeaderHeadersDropped      = "headers-dropped"
	HeaderOriginalHeaderBytes = "original-header-bytes"
	// HeaderStripped ("true") marks the last-resort dead letter that
	// carries none of the record (no key, headers or value), sent when
	// even the bounded one was refused as too large.
	HeaderStripped = "stripped"
)

// maxDeadLetterValue keeps a dead letter, headers included, under the
// producer's 1,000,000-byte limit. A longer value is cut to it and flagged:
// the full record stays in the source topic at the offset the headers name.
const maxDeadLetterValue = 512 * 1024

// maxErrorHeader bounds the error text copied into a header.
const maxErrorHeader = 4096

// A record's key and headers count against the producer's limit too, and a
// consumed record may be close to the broker's limit (higher than the
// producer's): they are bounded as well, so value, key, headers and the
// dead-letter headers together stay well under 1,000,000 bytes and a dead
// letter is never refused as too large (which would be retried forever and
// stall the partition).
const (
	maxDeadLetterKey     = 16 * 1024
	maxDeadLetterHeaders = 64 * 1024
	// headerOverhead is a generous per-header share of the record framing
	// (two varint lengths), counted against maxDeadLetterHeaders so that
	// many tiny headers are bounded too.
	headerOverhead = 10
)

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
	_, _, err := d.Producer.SendMessage(msg)
	if errors.Is(err, sarama.ErrMessageSizeTooLarge) {
		// A topic or broker limit below the bounds: the record's
		// coordinates alone still let an operator find it, and the
		// partition moves on instead of retrying a send that cannot work.
		msg = strippedDeadLetter(rec, kind, cause, now())
		msg.Topic = d.Topic
		_, _, err = d.Producer.SendMessage(msg)
	}
	if err != nil {
		return fmt.Errorf("produce dead letter to %s: %w", d.Topic, err)
	}
	return nil
}

// strippedDeadLetter is the dead letter of rec without its key, headers or
// value: the source coordinates and the error only.
func strippedDeadLetter(rec *sarama.ConsumerMessage, kind string, cause error, at time.Time) *sarama.ProducerMessage {
	return &sarama.ProducerMessage{Headers: append(errorHeaders(rec, kind, cause, at),
		sarama.RecordHeader{Key: []byte(HeaderStripped), Value: []byte("true")},
		sarama.RecordHeader{Key: []byte(HeaderOriginalBytes), Value: []byte(strconv.Itoa(len(rec.Value)))},
		sarama.RecordHeader{Key: []byte(HeaderOriginalKeyBytes), Value: []byte(strconv.Itoa(len(rec.Key)))})}
}

func errorHeaders(rec *sarama.ConsumerMessage, kind string, cause error, at time.Time) []sarama.RecordHeader {
	errText := cause.Error()
	if len(errText) > maxErrorHeader {
		errText = errText[:maxErrorHeader]
	}
	return []sarama.RecordHeader{
		{Key: []byte(HeaderError), Value: []byte(errText)},
		{Key: []byte(HeaderErrorKind), Value: []byte(kind)},
		{Key: []byte(HeaderSourceTopic), Value: []byte(rec.Topic)},
		{Key: []byte(HeaderSourcePart), Value: []byte(strconv.Itoa(int(rec.Partition)))},
		{Key: []byte(HeaderSourceOffset), Value: []byte(strconv.FormatInt(rec.Offset, 10))},
		{Key: []byte(HeaderDeadLetteredAt), Value: []byte(at.UTC().Format(time.RFC3339Nano))},
	}
}

// DeadLetter builds the dead-letter record for rec; its Topic is left empty.
// The record's headers are kept in order while they fit
// maxDeadLetterHeaders, its key up to maxDeadLetterKey and its value up to
// maxDeadLetterValue; whatever was cut is named by a marker header.
func DeadLetter(rec *sarama.ConsumerMessage, kind string, cause error, at time.Time) *sarama.ProducerMessage {
	headers := make([]sarama.RecordHeader, 0, len(rec.Headers)+12)
	used, total, dropped := 0, 0, 0
	for _, h := range rec.Headers {
		if h == nil {
			continue
		}
		size := len(h.Key) + len(h.Value) + headerOverhead
		total += size
		if used+size > maxDeadLetterHeaders {
			dropped++
			continue
		}
		used += size
		headers = append(headers, *h)
	}
	headers = append(headers, errorHeaders(rec, kind, cause, at)...)
	if dropped > 0 {
		headers = append(headers,
			sarama.RecordHeader{Key: []byte(HeaderHeadersDropped), Value: []byte(strconv.Itoa(dropped))},
			sarama.RecordHeader{Key: []byte(HeaderOriginalHeaderBytes), Value: []byte(strconv.Itoa(total))})
	}
	value := rec.Value
	if len(value) > maxDeadLetterValue {
		headers = append(headers,
			sarama.RecordHeader{Key: []byte(HeaderTruncated), Value: []byte("true")},
			sarama.RecordHeader{Key: []byte(HeaderOriginalBytes), Value: []byte(strconv.Itoa(len(value)))})
		value = value[:maxDeadLetterValue]
	}
	msg := &sarama.ProducerMessage{Headers: headers, Value: sarama.ByteEncoder(value)}
	if key := rec.Key; key != nil {
		if len(key) > maxDeadLetterKey {
			headers = append(headers,
				sarama.RecordHeader{Key: []byte(HeaderKeyTruncated), Value: []byte("true")},
				sarama.RecordHeader{Key: []byte(HeaderOriginalKeyBytes), Value: []byte(strconv.Itoa(len(key)))})
			msg.Headers = headers
			key = key[:maxDeadLetterKey]
		}
		msg.Key = sarama.ByteEncoder(key)
	}
	return msg
}
