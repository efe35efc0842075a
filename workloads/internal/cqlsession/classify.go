package cqlsession

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/internal/backoff"
)

var retryAfterPattern = regexp.MustCompile(`RetryAfterMs=(\d+)`)

// schemaMissing matches the Invalid messages of a statement whose table,
// keyspace or column is not there (Apache Cassandra and Cosmos DB wording):
// the statements are fixed, so that is the schema's fault, not the data's.
var schemaMissing = regexp.MustCompile(`(?i)unconfigured table|does not exist|undefined column|unknown (keyspace|table|column)|no keyspace has been specified|resource not found`)

// Classify says whether a CQL error is worth retrying and how long the
// server asked to wait. Storage outages (no connection, timeouts, node
// unavailable, bootstrapping, overloaded, authentication failing during a key
// rotation) are transient: a worker keeps retrying them rather than dropping
// data. Only errors about the statement itself are permanent.
func Classify(err error) backoff.Verdict {
	if err == nil {
		return backoff.Verdict{}
	}
	if errors.Is(err, context.Canceled) {
		return backoff.Verdict{}
	}
	var re gocql.RequestError
	if errors.As(err, &re) {
		switch re.Code() {
		// The request itself is wrong: retrying cannot help.
		case gocql.ErrCodeSyntax, gocql.ErrCodeUnauthorized, gocql.ErrCodeInvalid, gocql.ErrCodeConfig, gocql.ErrCodeAlreadyExists:
			return backoff.Verdict{}
		case gocql.ErrCodeOverloaded:
			return backoff.Verdict{Retry: true, After: RetryAfter(re.Message())}
		}
		return backoff.Verdict{Retry: true}
	}
	var ne net.Error
	switch {
	case errors.Is(err, gocql.ErrNoConnections), errors.Is(err, gocql.ErrTimeoutNoResponse),
		errors.Is(err, gocql.ErrConnectionClosed), errors.Is(err, gocql.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.As(err, &ne):
		return backoff.Verdict{Retry: true}
	case errors.Is(err, gocql.ErrSessionClosed), errors.Is(err, gocql.ErrNotFound):
		return backoff.Verdict{}
	}
	// Unknown errors are treated as transient: a storage fault must stall
	// and alert, not dead-letter every event behind it.
	return backoff.Verdict{Retry: true}
}

// RetryAfter extracts the RetryAfterMs a Cosmos DB Overloaded message
// carries; 0 when it has none.
func RetryAfter(msg string) time.Duration {
	m := retryAfterPattern.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	ms, err := strconv.Atoi(m[1])
	if err != nil || ms < 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// ClassifyWrite is Classify for the writes of one event. It tells errors
// about the event (a value a column refuses, a write too large), which are
// permanent, from errors about the store that every event would hit (a table
// or keyspace missing, a permission revoked, a statement the server does not
// accept): those are retried with Stall set, so a writer stalls and alerts
// instead of dead-lettering the whole stream.
func ClassifyWrite(err error) backoff.Verdict {
	v := Classify(err)
	var re gocql.RequestError
	if v.Retry || !errors.As(err, &re) {
		return v
	}
	switch re.Code() {
	case gocql.ErrCodeInvalid:
		if !schemaMissing.MatchString(re.Message()) {
			return v // about the event
		}
	case gocql.ErrCodeUnauthorized, gocql.ErrCodeSyntax, gocql.ErrCodeConfig, gocql.ErrCodeAlreadyExists:
	default:
		return v
	}
	return backoff.Verdict{Retry: true, Stall: true}
}
