package devservices

import (
	"context"
	"fmt"
	"io"
	"log"
	"strconv"
	"time"

	"github.com/gocql/gocql"
)

// WarmupKeyspace is the scratch keyspace of Cassandra's warm-up, dropped
// when it ends (and before it begins, should a killed run have left it).
const WarmupKeyspace = "devservices_warmup"

// The Cassandra warm-up's shape: batches like ingest's (one UNLOGGED batch
// of an event's rows: by device and day, by id, by hour shard, and the
// outbox), with reads like the change feed's (an outbox partition) and
// the api's (an event by id, a device's latest), at ONE as the workloads
// use a single node. It runs at least cassandraWarmMinBatches batches
// (about 40,000 rows), then until writes and reads settle.
const (
	cassandraWarmWorkers    = 16
	cassandraWarmMinBatches = 10000
	cassandraWarmWindow     = 1000 // write batches per window
	cassandraWarmReadEvery  = 4    // a read after every 4th batch of a worker
	cassandraWarmWriteP99   = 15 * time.Millisecond
	cassandraWarmReadP99    = 10 * time.Millisecond
	warmPlateau             = 1.5
)

var cassandraWarmTables = []string{
	`CREATE TABLE %s.by_device (device text, day date, at timestamp, id uuid, site text, kind text, value double,
	  unit text, severity text, attrs map<text, text>, ingested_at timestamp,
	  PRIMARY KEY ((device, day), at, id)) WITH CLUSTERING ORDER BY (at DESC, id ASC)`,
	`CREATE TABLE %s.by_id (id uuid PRIMARY KEY, device text, site text, kind text, value double, unit text,
	  severity text, at timestamp, attrs map<text, text>, ingested_at timestamp)`,
	`CREATE TABLE %s.by_hour (hour timestamp, shard int, at timestamp, id uuid, device text, site text, kind text,
	  value double, unit text, severity text, attrs map<text, text>, ingested_at timestamp,
	  PRIMARY KEY ((hour, shard), at, id))`,
	`CREATE TABLE %s.outbox (bucket timestamp, shard int, tid timeuuid, id uuid, device text, payload text,
	  ingested_at timestamp, PRIMARY KEY ((bucket, shard), tid))`,
}

func (c *cassandraService) warmSession(keyspace string) (*gocql.Session, error) {
	cl := gocql.NewCluster(Host)
	cl.Port = CassandraCQLPort
	cl.ProtoVersion = 4
	cl.Authenticator = gocql.PasswordAuthenticator{Username: CassandraUser, Password: c.m.cassandraPassword}
	cl.ConnectTimeout = 5 * time.Second
	// A cold node may take seconds for a batch; the warm-up counts a
	// timeout and goes on.
	cl.Timeout = 10 * time.Second
	cl.DisableInitialHostLookup = true
	cl.NumConns = 2
	cl.Consistency = gocql.One
	cl.Keyspace = keyspace
	cl.Logger = log.New(io.Discard, "", 0)
	sess, err := cl.CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", hostPort(CassandraCQLPort), err)
	}
	return sess, nil
}

// warmUp creates the scratch keyspace, runs ingest-shaped batches and the
// workloads' reads until their latencies settle or ctx ends, and drops it.
func (c *cassandraService) warmUp(ctx context.Context, status func(string, ...any)) (res Warmup, err error) {
	admin, err := c.warmSession("")
	if err != nil {
		return res, err
	}
	defer admin.Close()
	drop := func() error {
		// Not ctx: the cap may have ended it, and the keyspace goes anyway.
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin.Query("DROP KEYSPACE IF EXISTS " + WarmupKeyspace).WithContext(dctx).Exec(); err != nil {
			return fmt.Errorf("drop keyspace %s: %w", WarmupKeyspace, err)
		}
		return nil
	}
	if err := drop(); err != nil {
		return res, err
	}
	defer func() {
		if derr := drop(); derr != nil && err == nil {
			err = derr
		}
	}()
	if err := admin.Query("CREATE KEYSPACE " + WarmupKeyspace +
		" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").WithContext(ctx).Exec(); err != nil {
		return res, fmt.Errorf("create keyspace %s: %w", WarmupKeyspace, err)
	}
	for _, t := range cassandraWarmTables {
		if err := admin.Query(fmt.Sprintf(t, WarmupKeyspace)).WithContext(ctx).Exec(); err != nil {
			return res, fmt.Errorf("create scratch table: %w", err)
		}
	}
	sess, err := c.warmSession(WarmupKeyspace)
	if err != nil {
		return res, err
	}
	defer sess.Close()

	writes := &syncSettler{s: newSettler(cassandraWarmWindow, cassandraWarmMinBatches, cassandraWarmWriteP99, warmPlateau)}
	reads := &syncSettler{s: newSettler(cassandraWarmWindow/cassandraWarmReadEvery, cassandraWarmMinBatches/cassandraWarmReadEvery, cassandraWarmReadP99, warmPlateau)}
	var readOps opCounter
	day := time.Now().UTC().Truncate(24 * time.Hour)
	attrs := map[string]string{"firmware": "1.4.2", "zone": "north"}
	op := func(ctx context.Context, worker, i int) error {
		now := time.Now().UTC()
		id := gocql.TimeUUID()
		device := "warm-device-" + strconv.Itoa(worker*100+i%100)
		site := "warm-site-" + strconv.Itoa(worker%12)
		hour := now.Truncate(time.Hour)
		shard := i % 4
		value := float64(i%1000) / 10
		b := sess.NewBatch(gocql.UnloggedBatch).WithContext(ctx)
		b.Query(`INSERT INTO by_device (device, day, at, id, site, kind, value, unit, severity, attrs, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			device, day, now, id, site, "temperature", value, "C", "info", attrs, now)
		b.Query(`INSERT INTO by_id (id, device, site, kind, value, unit, severity, at, attrs, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, device, site, "temperature", value, "C", "info", now, attrs, now)
		b.Query(`INSERT INTO by_hour (hour, shard, at, id, device, site, kind, value, unit, severity, attrs, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			hour, shard, now, id, device, site, "temperature", value, "C", "info", attrs, now)
		b.Query(`INSERT INTO outbox (bucket, shard, tid, id, device, payload, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			now.Truncate(time.Minute), shard, id, id, device, `{"id":"`+id.String()+`","kind":"temperature","value":`+strconv.FormatFloat(value, 'f', 1, 64)+`}`, now)
		if err := sess.ExecuteBatch(b); err != nil {
			return err
		}
		if i%cassandraWarmReadEvery != cassandraWarmReadEvery-1 {
			return nil
		}
		begin := time.Now()
		err := c.warmRead(ctx, sess, id, device, day, now.Truncate(time.Minute), shard)
		if ctx.Err() != nil {
			return nil // cut by the cap
		}
		readOps.add(err)
		if err == nil {
			reads.add(time.Since(begin))
		}
		return nil
	}
	stopStatus := tick(time.Second, func() {
		w, r := writes.last("write"), reads.last("read")
		status("%d batches, write p99 %s, read p99 %s", writes.count(), fmtMS(w.P99), fmtMS(r.P99))
	})
	ops, failed := runTimed(ctx, cassandraWarmWorkers, op, func(d time.Duration) { writes.add(d) },
		func() bool { return writes.done() && reads.done() })
	stopStatus()
	rops, rfailed := readOps.get()
	res.Ops, res.Errors = ops+rops, failed+rfailed
	res.Settled = writes.done() && reads.done()
	res.Paths = []PathLatency{writes.last("write"), reads.last("read")}
	if ops > 0 && failed == ops {
		return res, fmt.Errorf("every one of %d batches failed", ops)
	}
	return res, nil
}

// warmRead reads what the workloads read: the api's event by id and a
// device's latest, the change feed's outbox partition.
func (c *cassandraService) warmRead(ctx context.Context, sess *gocql.Session, id gocql.UUID, device string, day, bucket time.Time, shard int) error {
	var site string
	if err := sess.Query(`SELECT site FROM by_id WHERE id = ?`, id).WithContext(ctx).Scan(&site); err != nil {
		return err
	}
	iter := sess.Query(`SELECT id, value FROM by_device WHERE device = ? AND day = ? LIMIT 20`, device, day).WithContext(ctx).Iter()
	var rid gocql.UUID
	var v float64
	for iter.Scan(&rid, &v) {
	}
	if err := iter.Close(); err != nil {
		return err
	}
	iter = sess.Query(`SELECT tid, payload FROM outbox WHERE bucket = ? AND shard = ? AND tid > ? LIMIT 100`,
		bucket, shard, gocql.MinTimeUUID(time.Now().Add(-2*time.Second))).WithContext(ctx).Iter()
	var tid gocql.UUID
	var payload string
	for iter.Scan(&tid, &payload) {
	}
	return iter.Close()
}
