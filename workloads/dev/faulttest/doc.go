// Package faulttest is the fault suite: each fault a deployment meets,
// injected for real into the real binaries on the real engines, with the
// effects counted rather than the rows.
//
// Ingest's writes go through a CQL proxy (package cqlproxy) that counts,
// per event id, the writes Cassandra acknowledged; network faults come
// from a Toxiproxy proxy between ingest and that one. A duplicate effect
// is a second acknowledged write of an event: the tables' primary keys
// would hide it, the proxy's counts do not. Every test asserts that every
// valid event is stored, every invalid one is in the dead-letter topic,
// and the duplicate effects stay within the bound the test states:
//
//   - SIGKILL of ingest mid-stream, then a restart: at most one duplicate
//     per event acknowledged before the kill whose offset was not yet
//     committed (the at-least-once window: one commit interval);
//   - consumer-group rebalance, ingest scaled 1 → 3 → 1 during a stream:
//     at most the writes in flight at each handover (INGEST_CONCURRENCY);
//   - the dead-letter topic unavailable for a while (deleted, then
//     created again): the partition waits, nothing is lost, no duplicate;
//   - network faults between ingest and Cassandra (latency, connections
//     reset, a half-open connection that swallows every byte): at most
//     the writes in flight at each fault;
//   - Cosmos DB-style throttling (Overloaded with RetryAfterMs) on a share
//     of the writes: ingest retries after the hinted delay, no duplicate.
//
// The changefeed's tests count its Redis writes instead: a MONITOR
// connection sees every write command with its client's address, which
// /proc maps to the process holding the socket, and a poll of the lease
// table says who owned each range when. Every critical event must end up
// in Redis as Cassandra stores it:
//
//   - two replicas on one feed, the lease holder frozen (SIGSTOP) for
//     twice the lease's time to live, then resumed: the other takes the
//     ranges over, and the frozen one writes nothing for a range after it
//     lost it; duplicates at most the critical events of the taken-over
//     ranges sent from a commit interval plus the grace window before the
//     freeze (the new holder resumes at the last checkpoint);
//   - the changefeed's Cassandra answers delayed past its CASSANDRA_TIMEOUT
//     (Toxiproxy) for twice the lease's life: reads, renewals and saves
//     time out and the leases are lost; once the delay is gone, every
//     critical event is in Redis and in the api within 30 s, duplicates at
//     most the critical events sent from a commit interval plus the grace
//     window before the fault to its end;
//   - Cassandra stopped under the whole real-time path and started again:
//     duplicates at most the critical events sent from a commit interval
//     plus the grace window before the stop until it is back.
//
// Other fault tests live beside the code they exercise: the change feed
// (Cassandra restart, a read failing mid-sweep, changefeed SIGKILL), Redis
// restart under the api, enrich killed mid-run and late events, the
// store stalling on a dropped table; the README's fault table lists them
// all with their measured bounds.
package faulttest
