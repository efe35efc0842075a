// Package ingest moves events from Kafka into Cassandra.
//
// A sarama consumer group reads topic "events". Each record is decoded and
// validated against the v1 contract; a valid event is upserted into the
// event tables with bounded concurrency and retried with backoff while
// storage is unavailable or rate limited (honouring Cosmos DB's
// RetryAfterMs). An invalid record, or one storage rejects for good, goes to
// the dead-letter topic with headers naming the error and its source.
// "For good" means about the event (cqlsession.ClassifyWrite): a value a
// column refuses, a write too large. A store error every event would hit (a
// table or keyspace missing, a permission revoked) is retried instead and
// marks the worker stalled: Ready fails and the sluice_ingest_store_stalled
// gauge counts the writes waiting, so the stream stalls and alerts rather
// than draining into the dead-letter topic. A dead letter's value, key and
// headers are bounded so that it always fits the producer's size limit.
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
