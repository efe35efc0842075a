package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits of the v1 event contract (DESIGN.md, "Event contract (v1)").
const (
	// SchemaVersion is the only value of the "v" field this package accepts.
	SchemaVersion = 1
	// MaxRecordBytes is the largest record accepted; larger ones go to the DLQ.
	// It stays below Event Hubs' 1,046,528-byte event limit.
	MaxRecordBytes = 1_000_000
	// MaxFutureSkew is how far in the future an event's time may lie.
	MaxFutureSkew = 5 * time.Minute
	// MaxAttrs is the largest number of attribute pairs.
	MaxAttrs = 32
	// MaxUnitLen is the longest unit, in characters.
	MaxUnitLen = 16
	// MaxAttrKeyLen and MaxAttrValueLen bound one attribute pair, in
	// characters. DESIGN.md is silent on them; they keep one event's
	// attributes well inside a Cassandra cell and a Redis value.
	MaxAttrKeyLen   = 64
	MaxAttrValueLen = 256
)

// Severities of an event.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

var (
	namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	// kindPattern keeps the open set of kinds to lowercase identifiers such as
	// "temperature" or "air_quality".
	kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	// timePattern is RFC 3339's date-time with a mandatory zone; Go's
	// parser alone also takes one-digit hours.
	timePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$`)
	// minTime is the earliest event time accepted: DESIGN.md sets no lower
	// bound, but a reading before the Unix epoch is a broken clock, and
	// years before 1 cannot be written back in RFC 3339.
	minTime = time.Unix(0, 0).UTC()
)

// ErrInvalid is the sentinel every validation failure wraps: callers route
// errors.Is(err, ErrInvalid) to the dead-letter topic.
var ErrInvalid = errors.New("invalid event")

// Event is one v1 event. Its ID is the idempotency key everywhere.
type Event struct {
	V        int               `json:"v"`
	ID       string            `json:"id"`
	Site     string            `json:"site"`
	Device   string            `json:"device"`
	Kind     string            `json:"kind"`
	Value    float64           `json:"value"`
	Unit     string            `json:"unit"`
	Severity string            `json:"severity"`
	At       time.Time         `json:"at"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

// FieldError is one broken rule: the field and the reason.
type FieldError struct {
	Field  string
	Reason string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// ValidationError lists every rule an event breaks. It wraps ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid event: " + strings.Join(parts, "; ")
}

func (e *ValidationError) Unwrap() error { return ErrInvalid }

// DecodeError is a record that is not a v1 event at all: too large, not JSON,
// or a field of the wrong JSON type. It wraps ErrInvalid.
type DecodeError struct {
	Reason string
}

func (e *DecodeError) Error() string { return "invalid event: " + e.Reason }
func (e *DecodeError) Unwrap() error { return ErrInvalid }

// wireEvent has pointers so that a missing field can be told from a zero one.
type wireEvent struct {
	V        *int               `json:"v"`
	ID       *string            `json:"id"`
	Site     *string            `json:"site"`
	Device   *string            `json:"device"`
	Kind     *string            `json:"kind"`
	Value    *float64           `json:"value"`
	Unit     *string            `json:"unit"`
	Severity *string            `json:"severity"`
	At       *string            `json:"at"`
	Attrs    *map[string]string `json:"attrs"`
}

// Decode parses and validates one record. now is the receiver's clock, used
// for the "not more than 5 minutes in the future" rule. Every error wraps
// ErrInvalid and says why; unknown fields are ignored so that producers can add
// fields ahead of consumers.
func Decode(record []byte, now time.Time) (Event, error) {
	if len(record) > MaxRecordBytes {
		return Event{}, &DecodeError{Reason: fmt.Sprintf("record is %d bytes, over the %d-byte limit", len(record), MaxRecordBytes)}
	}
	if !utf8.Valid(record) {
		return Event{}, &DecodeError{Reason: "record is not valid UTF-8"}
	}
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(record))
	if err := dec.Decode(&w); err != nil {
		return Event{}, &DecodeError{Reason: "not a JSON event object: " + jsonReason(err)}
	}
	if dec.More() {
		return Event{}, &DecodeError{Reason: "trailing data after the JSON object"}
	}
	var fe []FieldError
	bad := func(field, reason string) { fe = append(fe, FieldError{Field: field, Reason: reason}) }
	var ev Event

	switch {
	case w.V == nil:
		bad("v", "missing")
	case *w.V != SchemaVersion:
		bad("v", fmt.Sprintf("unsupported schema version %d, want %d", *w.V, SchemaVersion))
	default:
		ev.V = *w.V
	}
	if w.ID == nil {
		bad("id", "missing")
	} else if id, err := uuid.Parse(*w.ID); err != nil || len(*w.ID) != 36 {
		bad("id", "not a UUID in canonical 8-4-4-4-12 form")
	} else {
		ev.ID = id.String()
	}
	ev.Site = nameField(w.Site, "site", bad)
	ev.Device = nameField(w.Device, "device", bad)
	switch {
	case w.Kind == nil:
		bad("kind", "missing")
	case !kindPattern.MatchString(*w.Kind):
		bad("kind", "must match "+kindPattern.String())
	default:
		ev.Kind = *w.Kind
	}
	switch {
	case w.Value == nil:
		bad("value", "missing")
	case math.IsNaN(*w.Value) || math.IsInf(*w.Value, 0):
		bad("value", "not a finite number")
	default:
		ev.Value = *w.Value
	}
	switch {
	case w.Unit == nil:
		bad("unit", "missing")
	case utf8.RuneCountInString(*w.Unit) > MaxUnitLen:
		bad("unit", fmt.Sprintf("longer than %d characters", MaxUnitLen))
	default:
		ev.Unit = *w.Unit
	}
	switch {
	case w.Severity == nil:
		bad("severity", "missing")
	case *w.Severity != SeverityInfo && *w.Severity != SeverityWarning && *w.Severity != SeverityCritical:
		bad("severity", fmt.Sprintf("%q is not one of info, warning, critical", *w.Severity))
	default:
		ev.Severity = *w.Severity
	}
	if w.At == nil {
		bad("at", "missing")
	} else if at, err := time.Parse(time.RFC3339Nano, *w.At); err != nil || !timePattern.MatchString(*w.At) {
		bad("at", "not an RFC 3339 time with a zone")
	} else if at.Before(minTime) {
		bad("at", "before 1970-01-01T00:00:00Z")
	} else if at.After(now.Add(MaxFutureSkew)) {
		bad("at", fmt.Sprintf("%s is more than %s in the future", *w.At, MaxFutureSkew))
	} else {
		ev.At = at.UTC()
	}
	if w.Attrs != nil {
		attrs := *w.Attrs
		if len(attrs) > MaxAttrs {
			bad("attrs", fmt.Sprintf("%d pairs, over the limit of %d", len(attrs), MaxAttrs))
		}
		for k, v := range attrs {
			if k == "" || utf8.RuneCountInString(k) > MaxAttrKeyLen {
				bad("attrs", fmt.Sprintf("key %q must be 1-%d characters", truncate(k), MaxAttrKeyLen))
			}
			if utf8.RuneCountInString(v) > MaxAttrValueLen {
				bad("attrs", fmt.Sprintf("value of %q longer than %d characters", truncate(k), MaxAttrValueLen))
			}
		}
		if len(attrs) > 0 {
			ev.Attrs = attrs
		}
	}
	if len(fe) > 0 {
		return Event{}, &ValidationError{Fields: fe}
	}
	return ev, nil
}

func nameField(v *string, field string, bad func(string, string)) string {
	switch {
	case v == nil:
		bad(field, "missing")
	case !namePattern.MatchString(*v):
		bad(field, "must be 1-64 characters of A-Z a-z 0-9 . _ -")
	default:
		return *v
	}
	return ""
}

// Validate checks an Event built in code against the same rules Decode
// applies, so producers cannot emit what consumers would dead-letter.
func (e Event) Validate(now time.Time) error {
	b, err := e.Marshal()
	if err != nil {
		return &DecodeError{Reason: err.Error()}
	}
	_, err = Decode(b, now)
	return err
}

// Marshal encodes the event in its wire form, with the time in RFC 3339 UTC.
func (e Event) Marshal() ([]byte, error) { return e.MarshalTime(time.RFC3339Nano) }

// MarshalTime is Marshal with the event time written in layout (always in
// UTC), for documents that need a fixed-width time.
func (e Event) MarshalTime(layout string) ([]byte, error) {
	if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
		return nil, errors.New("value is not a finite number")
	}
	w := struct {
		V        int               `json:"v"`
		ID       string            `json:"id"`
		Site     string            `json:"site"`
		Device   string            `json:"device"`
		Kind     string            `json:"kind"`
		Value    float64           `json:"value"`
		Unit     string            `json:"unit"`
		Severity string            `json:"severity"`
		At       string            `json:"at"`
		Attrs    map[string]string `json:"attrs,omitempty"`
	}{e.V, e.ID, e.Site, e.Device, e.Kind, e.Value, e.Unit, e.Severity, e.At.UTC().Format(layout), e.Attrs}
	return json.Marshal(w)
}

// Day is the partition bucket of an event time: its UTC calendar day.
func Day(at time.Time) time.Time {
	y, m, d := at.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has JSON type %s", te.Field, te.Value)
	}
	return err.Error()
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= 32 {
		return s
	}
	return string([]rune(s)[:32]) + "…"
}
