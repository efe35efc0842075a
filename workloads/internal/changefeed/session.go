package changefeed

import (
	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
)

// Sessions supplies the session each query runs on, asked for per query:
// cqlsession.Rotating swaps in a new session when the Cassandra password
// (the Cosmos DB key) changes, and the feed, its leases and its
// checkpoints move to it without a restart.
type Sessions interface {
	Session() *gocql.Session
}

// Fixed is a Sessions that always returns the same session.
type Fixed struct{ S *gocql.Session }

// Session implements Sessions.
func (f Fixed) Session() *gocql.Session { return f.S }

var (
	_ Sessions = Fixed{}
	_ Sessions = (*cqlsession.Rotating)(nil)
)
