// Package eventstore is the Cassandra adapter for events: idempotent upserts
// into the event tables defined in package contract, and point reads by id.
//
// An upsert writes every row of one event with the same values, so writing
// the same event twice (a redelivered Kafka record, a retried batch) leaves
// the tables exactly as one write would. Statements are generated from the
// shared schema, so a column added there is written here without a second
// list to keep in step.
package eventstore
