// Package ingest moves events from Kafka into Cassandra.
//
// A sarama consumer group reads topic "events". Each record is decoded and
// validated against the v1 contract; a valid event is upserted into the
// event tables with bounded concurrency and retried with backoff while
// storage is unavailable or rate limited (honouring Cosmos DB's
// RetryAfterMs). An invalid record, or one storage rejects for good, goes to
// the dead-letter topic with headers naming the error and its source.
//
// Offsets: records of a partition are processed concurrently but marked in
// offset order, and a record is marked only after its write is durable or
// its dead letter is acknowledged. A crash or a rebalance therefore
// redelivers only unmarked records, and the idempotent upserts make the
// redelivery harmless: every event ends up stored exactly once by id.
//
// Shutdown: when the run context ends the worker stops fetching, gives
// in-flight writes a drain deadline, marks what finished, commits and
// returns.
package ingest
