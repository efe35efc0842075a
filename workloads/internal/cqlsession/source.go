package cqlsession

import "github.com/gocql/gocql"

// Source supplies the session each statement runs on, looked up per
// statement: Rotating swaps in a new session when the Cassandra password
// (the Cosmos DB key) changes, and statements move to it without a restart.
// Every Cassandra reader and writer of the workloads takes a Source.
type Source interface {
	Session() *gocql.Session
}

// Fixed is a Source that always returns the same session.
type Fixed struct{ S *gocql.Session }

// Session implements Source.
func (f Fixed) Session() *gocql.Session { return f.S }
