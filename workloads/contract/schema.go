package contract

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// Keyspace is the Cassandra keyspace every workload uses.
const Keyspace = "sluice"

// Table names shared by the workloads and the infrastructure.
const (
	TableEventsByDevice = "events_by_device"
	TableEventsByID     = "events_by_id"
	TableCriticalBySite = "critical_by_site"
	TableEventsByHour   = "events_by_hour"
	// TableChangefeedLeases holds one row per change-feed consumer and
	// feed range: the lease (owner, epoch, expiry) and the checkpoint.
	TableChangefeedLeases = "changefeed_leases"
	// TableEventsOutbox is the local change feed: ingest appends one row
	// per stored event when configured to. Plain Apache Cassandra only;
	// see OutboxTables.
	TableEventsOutbox = "events_outbox"
	// TableSiteMinutes holds the stream job's (Spark) one-minute aggregates
	// per site and kind; TableSilentDevices the devices it found silent.
	TableSiteMinutes   = "site_minutes"
	TableSilentDevices = "silent_devices"
	// TableHourMarks says, per event-time hour, when ingest last stored
	// rows into it; enrich redoes an hour that received rows after its run.
	TableHourMarks = "hour_marks"
)

// Hour marks: before ingest stores an event it makes sure the event's hour
// carries a mark no older than HourMarkRefresh (one small write per hour
// and refresh, not per event). A row of an hour is therefore stored no
// later than HourMarkLag after the hour's latest mark: ingest refuses to
// start with a Cassandra timeout that could break that (the refresh plus
// the write timeout plus the clock skew between pods must fit), and enrich
// treats an hour whose mark is later than HourMarkLag before its run
// started as one that may hold rows the run did not read.
const (
	HourMarkRefresh = time.Second
	HourMarkLag     = 30 * time.Second
	// HourMarkSkew is the clock skew between pods the lag allows for.
	HourMarkSkew = 5 * time.Second
)

// MinuteTTLSeconds keeps site_minutes rows for 35 days, like events_by_hour:
// the table serves charts of recent minutes, reports read PostgreSQL.
const MinuteTTLSeconds = 35 * 24 * 3600

// Outbox layout. Ingest and the change-feed worker must agree on these;
// changing OutboxShards or OutboxBucket needs both stopped and the outbox
// drained first.
const (
	// OutboxShards is how many partitions one outbox time bucket is spread
	// over; each shard is one feed range with its own lease.
	OutboxShards = 4
	// OutboxBucket is the width of one outbox time bucket.
	OutboxBucket = time.Minute
	// OutboxTTLSeconds bounds how long an unread change waits: a change
	// feed stopped for longer than this loses changes.
	OutboxTTLSeconds = 3 * 24 * 3600
)

// HourShards is how many partitions one hour of events is spread over in
// events_by_hour, so a busy hour is not one hot partition.
const HourShards = 8

// HourTTLSeconds keeps events_by_hour rows for 35 days: the table exists for
// the batch enrichment of recent windows, not as the system of record.
const HourTTLSeconds = 35 * 24 * 3600

// Column is one CQL column. Type is a CQL type as Cosmos DB's table schema
// accepts it (text, uuid, date, timestamp, double, int, bigint, boolean,
// map<text, text>).
type Column struct {
	Name string
	Type string
}

// ClusteringColumn is a clustering key column with its order, "ASC" or "DESC".
type ClusteringColumn struct {
	Name  string
	Order string
}

// Table is one table of the keyspace: the shape both the local CQL migrator
// and the Cosmos DB table resource are generated from.
type Table struct {
	Name          string
	Columns       []Column
	PartitionKey  []string
	ClusteringKey []ClusteringColumn
	// DefaultTTLSeconds is the table's default time to live; 0 keeps rows
	// forever.
	DefaultTTLSeconds int
	// Comment says what the table is for.
	Comment string
}

// eventColumns are the event fields stored in every event table.
func eventColumns() []Column {
	return []Column{
		{Name: "id", Type: "uuid"},
		{Name: "site", Type: "text"},
		{Name: "device", Type: "text"},
		{Name: "kind", Type: "text"},
		{Name: "value", Type: "double"},
		{Name: "unit", Type: "text"},
		{Name: "severity", Type: "text"},
		{Name: "at", Type: "timestamp"},
		{Name: "attrs", Type: "map<text, text>"},
		{Name: "ingested_at", Type: "timestamp"},
	}
}

// Tables returns the tables of the keyspace, in creation order. The slice is
// new on every call, so callers may change it.
func Tables() []Table {
	withDay := append([]Column{{Name: "day", Type: "date"}}, eventColumns()...)
	return []Table{
		{
			Name:          TableEventsByDevice,
			Comment:       "every event of a device, newest first, one partition per device and UTC day",
			Columns:       withDay,
			PartitionKey:  []string{"device", "day"},
			ClusteringKey: []ClusteringColumn{{Name: "at", Order: "DESC"}, {Name: "id", Order: "ASC"}},
		},
		{
			Name:         TableEventsByID,
			Comment:      "point lookups of an event by its id",
			Columns:      eventColumns(),
			PartitionKey: []string{"id"},
		},
		{
			Name: TableEventsByHour,
			Comment: "events by event-time hour, spread over HourShards partitions, " +
				"so a batch reads a time window without scanning the table",
			Columns:           append([]Column{{Name: "hour", Type: "timestamp"}, {Name: "shard", Type: "int"}}, eventColumns()...),
			PartitionKey:      []string{"hour", "shard"},
			ClusteringKey:     []ClusteringColumn{{Name: "at", Order: "ASC"}, {Name: "id", Order: "ASC"}},
			DefaultTTLSeconds: HourTTLSeconds,
		},
		{
			Name:          TableCriticalBySite,
			Comment:       "critical events of a site, newest first, one partition per site and UTC day",
			Columns:       append([]Column{{Name: "day", Type: "date"}}, eventColumns()...),
			PartitionKey:  []string{"site", "day"},
			ClusteringKey: []ClusteringColumn{{Name: "at", Order: "DESC"}, {Name: "id", Order: "ASC"}},
		},
		changefeedLeasesTable(),
		{
			Name: TableSiteMinutes,
			Comment: "the stream job's one-minute aggregates per site, kind and unit by event time, " +
				"one partition per site and UTC day; rows are overwritten as a minute fills",
			Columns: []Column{
				{Name: "site", Type: "text"},
				{Name: "kind", Type: "text"},
				{Name: "day", Type: "date"},
				{Name: "minute", Type: "timestamp"},
				{Name: "unit", Type: "text"},
				{Name: "events", Type: "bigint"},
				{Name: "min_value", Type: "double"},
				{Name: "max_value", Type: "double"},
				{Name: "sum_value", Type: "double"},
				{Name: "mean_value", Type: "double"},
				{Name: "updated_at", Type: "timestamp"},
			},
			PartitionKey:      []string{"site", "day"},
			ClusteringKey:     []ClusteringColumn{{Name: "kind", Order: "ASC"}, {Name: "minute", Order: "ASC"}, {Name: "unit", Order: "ASC"}},
			DefaultTTLSeconds: MinuteTTLSeconds,
		},
		{
			Name: TableHourMarks,
			Comment: "per event-time hour, when ingest last stored rows into it (refreshed about every second), " +
				"one partition per UTC day, so enrich finds hours that received rows after their run",
			Columns: []Column{
				{Name: "day", Type: "date"},
				{Name: "hour", Type: "timestamp"},
				{Name: "stored_at", Type: "timestamp"},
			},
			PartitionKey:      []string{"day"},
			ClusteringKey:     []ClusteringColumn{{Name: "hour", Order: "ASC"}},
			DefaultTTLSeconds: HourTTLSeconds,
		},
		{
			Name: TableSilentDevices,
			Comment: "devices of a site the stream job found silent (no event for the silence threshold, by event time), " +
				"and those that reported again",
			Columns: []Column{
				{Name: "site", Type: "text"},
				{Name: "device", Type: "text"},
				{Name: "kind", Type: "text"},
				{Name: "silent", Type: "boolean"},
				{Name: "last_seen", Type: "timestamp"},
				{Name: "changed_at", Type: "timestamp"},
				{Name: "updated_at", Type: "timestamp"},
			},
			PartitionKey:  []string{"site"},
			ClusteringKey: []ClusteringColumn{{Name: "device", Order: "ASC"}},
		},
	}
}

// changefeedLeasesTable is the lease and checkpoint table of the change
// feed. It is in Tables because both change-feed sources use it, Cosmos DB's
// included (its conditional updates need single-region writes).
func changefeedLeasesTable() Table {
	return Table{
		Name: TableChangefeedLeases,
		Comment: "change-feed leases and checkpoints: one row per consumer and feed range, " +
			"updated only with lightweight transactions conditioned on owner and epoch",
		Columns: []Column{
			{Name: "feed", Type: "text"},
			{Name: "feed_range", Type: "text"},
			{Name: "owner", Type: "text"},
			{Name: "epoch", Type: "bigint"},
			{Name: "lease_until", Type: "timestamp"},
			{Name: "checkpoint", Type: "text"},
			{Name: "updated_at", Type: "timestamp"},
		},
		PartitionKey: []string{"feed", "feed_range"},
	}
}

// OutboxTables returns the tables only plain Apache Cassandra needs: the
// events outbox, the local stand-in for Cosmos DB's change feed. They are
// kept out of Tables, which the infrastructure turns into Cosmos DB tables.
// Rows are bucketed by ingestion time (OutboxBucket) and spread over
// OutboxShards partitions by device, so a poller reads each shard's buckets
// in order and sees one device's changes in the order they were written.
func OutboxTables() []Table {
	return []Table{{
		Name: TableEventsOutbox,
		Comment: "local change feed: one row per stored event, by ingestion-time bucket and shard, " +
			"in write order (timeuuid)",
		Columns: []Column{
			{Name: "bucket", Type: "timestamp"},
			{Name: "shard", Type: "int"},
			{Name: "tid", Type: "timeuuid"},
			{Name: "id", Type: "uuid"},
			{Name: "device", Type: "text"},
			{Name: "payload", Type: "text"},
			{Name: "ingested_at", Type: "timestamp"},
		},
		PartitionKey:      []string{"bucket", "shard"},
		ClusteringKey:     []ClusteringColumn{{Name: "tid", Order: "ASC"}},
		DefaultTTLSeconds: OutboxTTLSeconds,
	}}
}

// OutboxBucketOf is the outbox bucket of an ingestion time.
func OutboxBucketOf(t time.Time) time.Time { return t.UTC().Truncate(OutboxBucket) }

// OutboxShard is the outbox shard of a device: all changes of one device
// land in one shard, which keeps their order.
func OutboxShard(device string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(device))
	return int(h.Sum32() % OutboxShards)
}

// Hour is the events_by_hour bucket of an event time.
func Hour(at time.Time) time.Time { return at.UTC().Truncate(time.Hour) }

// Shard is the events_by_hour shard of an event id, stable for an id so a
// repeated upsert hits the same row.
func Shard(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % HourShards)
}

// CreateKeyspaceCQL is the statement that creates a keyspace (normally
// Keyspace) on a plain Apache Cassandra cluster with the given replication
// factor. On Cosmos DB the keyspace is an ARM resource instead.
func CreateKeyspaceCQL(keyspace string, replicationFactor int) string {
	return fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': %d}", keyspace, replicationFactor)
}

// CreateCQL is the idempotent CREATE TABLE statement of the table.
func (t Table) CreateCQL(keyspace string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s (", keyspace, t.Name)
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "%s %s, ", c.Name, c.Type)
	}
	pk := strings.Join(t.PartitionKey, ", ")
	if len(t.PartitionKey) > 1 {
		pk = "(" + pk + ")"
	}
	keys := []string{pk}
	for _, c := range t.ClusteringKey {
		keys = append(keys, c.Name)
	}
	fmt.Fprintf(&b, "PRIMARY KEY (%s))", strings.Join(keys, ", "))
	var with []string
	if len(t.ClusteringKey) > 0 {
		order := make([]string, len(t.ClusteringKey))
		for i, c := range t.ClusteringKey {
			order[i] = c.Name + " " + c.Order
		}
		with = append(with, "CLUSTERING ORDER BY ("+strings.Join(order, ", ")+")")
	}
	if t.DefaultTTLSeconds > 0 {
		with = append(with, fmt.Sprintf("default_time_to_live = %d", t.DefaultTTLSeconds))
	}
	if t.Comment != "" {
		with = append(with, "comment = '"+strings.ReplaceAll(t.Comment, "'", "''")+"'")
	}
	if len(with) > 0 {
		b.WriteString(" WITH " + strings.Join(with, " AND "))
	}
	return b.String()
}

// Column returns the named column and whether the table has it.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// TableByName returns the event table of that name (see Tables) and
// whether there is one.
func TableByName(name string) (Table, bool) {
	for _, t := range Tables() {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}
