// Package changefeed reads the changes of the events tables and hands them,
// page by page, to a handler (the Redis cache writer), with durable
// checkpoints and leases so that a restart resumes where it stopped and two
// replicas never work on the same feed range at once.
//
// # One interface, two sources
//
// A Feed splits into feed ranges; Open returns a Source for one range. A
// Source returns Batches with Next and records progress with Commit. Both
// sources behave the same from the caller's side:
//
//   - Next returns the changes after the last batch it returned (at open:
//     after the checkpoint). An empty batch means "caught up or
//     throttled": the caller backs off instead of spinning.
//   - Commit saves the batch's position through the Checkpoints it was
//     opened with; call it only after the batch was processed. A Source
//     opened on the same Checkpoints resumes after the last committed
//     batch: no change is missed and committed ones are not replayed.
//   - Changes are inserts and updates of one event; a batch holds the
//     latest version of each event only, and changes of one device keep
//     their order.
//   - Delivery is at least once: a crash between processing and commit
//     delivers the batch again, so handlers must be idempotent.
//
// CosmosFeed reads Cosmos DB for Apache Cassandra's change feed: a query
// with the COSMOS_CHANGEFEED_START_TIME() predicate whose paging state is
// carried from page to page; the state is the checkpoint. A page without a
// new state (a query that ran out) is read again from the same state, and
// the rows already delivered from it are recognised by a digest of each
// row, never by their count or place: a re-read may return a new row before
// them or move an updated one to the end. The feed is one
// range per table (Cosmos' FeedRange split is a preview feature), owned by
// one replica at a time through its lease.
//
// OutboxFeed reads the events outbox that ingest writes on plain Apache
// Cassandra (INGEST_OUTBOX=true), which has no CQL change feed. The outbox
// is bucketed by ingestion time (contract.OutboxBucket) and spread over
// contract.OutboxShards shards by device; every shard is a feed range. Rows
// are ordered by a timeuuid taken when the row's write starts, but a write
// may land a little after a poller passed its time. Each shard is therefore
// read by two cursors: the tail cursor follows the newest rows for latency,
// and the settle cursor re-reads what the tail passed once it is older than
// the grace window (CHANGEFEED_OUTBOX_GRACE, default 15 s), delivering only
// rows the tail did not see; every 100 ms a recheck of the tail's last
// second does the same, so a row a little late (with hundreds of writes in
// flight, a few in a hundred are) arrives within 100 ms rather than after
// the grace window. Such a late row reaches the handler after
// newer changes of its device; the cache writer does not depend on the order
// (a device's latest reading is replaced only by a newer one). The
// checkpoint holds both cursors; after a restart the rows between them (at
// most the grace window) are delivered again, which the idempotent handler
// absorbs.
//
// A Next is all or nothing: the cursors and the set of delivered rows change
// only once every read of the call (each sweep page, the audit, the
// recheck, the tail) succeeded, so a read failing half-way never moves the
// settle cursor past a late row it had collected.
//
// A row committed later than the grace window after its timeuuid (an
// ingest host whose clock lags by more than that, or a write stuck for
// longer) lands behind the settled cursor. The configuration therefore
// refuses a grace window that does not exceed the write timeout
// (CASSANDRA_TIMEOUT) plus the allowed clock skew
// (CHANGEFEED_OUTBOX_MAX_SKEW, default 2 s), and once per grace window an
// audit re-reads the timeuuids the settle cursor passed one window before:
// a row the sweep never read there is delivered and counted
// (sluice_changefeed_late_changes_total{via="settled"}), which says the
// grace window is too short. A row later still is lost; the audit's range
// is not checkpointed, so after a restart it starts at the settled cursor.
//
// # Leases
//
// Leases holds one row per consumer and feed range in
// contract.TableChangefeedLeases: owner, epoch, expiry and checkpoint. It
// is acquired with INSERT … IF NOT EXISTS or taken over after expiry with
// UPDATE … IF epoch = ?; renewals and checkpoint saves are UPDATE … IF
// owner = ? AND epoch = ?, so a replica that lost its lease can neither
// renew nor move the checkpoint. The Runner stops processing a range as
// soon as a renewal is refused or the lease is about to expire without one.
// Lightweight transactions work on Apache Cassandra and on Cosmos DB
// accounts with a single write region only (multi-region writes disable
// them); the infrastructure keeps EnableMultipleWriteLocations off.
//
// Lease expiry uses the replicas' clocks: another replica takes a range
// over once its clock passes the stored expiry, which by the holder's
// clock may be up to the allowed skew early (CHANGEFEED_LEASE_MAX_SKEW,
// default 2 s, shorter than the lease, CHANGEFEED_LEASE_TTL, 15 s). The
// holder's work on a range — each handler call, renewal and checkpoint
// save — therefore carries a context deadline that safety margin before
// its lease expires, and unless a renewal (or save) extended the lease by
// then, all of it is cancelled with ErrLeaseLost at that deadline: a
// renewal that hangs stops the holder instead of letting it write while a
// second holder starts. A handler must honour its context's deadline.
package changefeed
