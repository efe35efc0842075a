//go:build integration

package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/google/uuid"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
)

// TestUpsertInOwnKeyspace migrates a keyspace other than the default, then
// checks, for batched and statement-by-statement writes, that one upsert
// leaves the event in every table it belongs to and in the outbox, that a
// repeat changes nothing, and that Get reads it back.
func TestUpsertInOwnKeyspace(t *testing.T) {
	for name, opts := range map[string][]eventstore.Option{
		"batch":      {eventstore.WithOutbox("")},
		"one by one": {eventstore.WithOutbox(""), eventstore.WithStatementWrites()},
	} {
		t.Run(name, func(t *testing.T) { testUpsertInOwnKeyspace(t, opts) })
	}
}

func testUpsertInOwnKeyspace(t *testing.T, opts []eventstore.Option) {
	ep := itest.Up(t, devservices.Cassandra)
	keyspace := strings.ToLower(itest.Name("ks"))
	admin, cc := itest.Cassandra(t, ep)
	cc.Keyspace = keyspace
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := eventstore.MigrateConfig(ctx, cc, 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Query("DROP KEYSPACE IF EXISTS " + keyspace).Exec() })
	s, err := cc.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	store := eventstore.New(s, keyspace, opts...)
	at := time.Now().UTC().Truncate(time.Millisecond)
	ev := contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: "site-ks", Device: "dev-ks", Kind: "co2", Value: 2100,
		Unit: "ppm", Severity: contract.SeverityCritical, At: at, Attrs: map[string]string{"fw": "1.2"}}
	ingested := time.Now().UTC().Truncate(time.Millisecond)
	before := time.Now()
	for range 2 { // a redelivery writes the same rows again
		if err := store.Upsert(ctx, ev, ingested); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Get(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ev.ID || got.Site != ev.Site || got.Value != ev.Value || !got.At.Equal(at) || got.Attrs["fw"] != "1.2" || !got.IngestedAt.Equal(ingested) {
		t.Fatalf("read back %+v, want %+v ingested at %s", got, ev, ingested)
	}
	id, _ := gocql.ParseUUID(ev.ID)
	count := func(cql string, args ...any) int {
		t.Helper()
		var n int
		if err := s.Query(cql, args...).WithContext(ctx).Scan(&n); err != nil {
			t.Fatalf("%s: %v", cql, err)
		}
		return n
	}
	for table, n := range map[string]int{
		contract.TableEventsByID:     count("SELECT COUNT(*) FROM "+keyspace+"."+contract.TableEventsByID+" WHERE id = ?", id),
		contract.TableEventsByDevice: count("SELECT COUNT(*) FROM "+keyspace+"."+contract.TableEventsByDevice+" WHERE device = ? AND day = ?", ev.Device, contract.Day(at)),
		contract.TableEventsByHour:   count("SELECT COUNT(*) FROM "+keyspace+"."+contract.TableEventsByHour+" WHERE hour = ? AND shard = ?", contract.Hour(at), contract.Shard(ev.ID)),
		contract.TableCriticalBySite: count("SELECT COUNT(*) FROM "+keyspace+"."+contract.TableCriticalBySite+" WHERE site = ? AND day = ?", ev.Site, contract.Day(at)),
	} {
		if n != 1 {
			t.Errorf("%s holds %d rows of the event, want 1", table, n)
		}
	}
	// Each upsert appends an outbox row of its own (a new timeuuid): the
	// change feed dedupes by event id and keeps the latest.
	var payloads []string
	buckets := []time.Time{contract.OutboxBucketOf(before)}
	if last := contract.OutboxBucketOf(time.Now()); !last.Equal(buckets[0]) {
		buckets = append(buckets, last)
	}
	for _, b := range buckets {
		iter := s.Query("SELECT payload FROM "+keyspace+"."+contract.TableEventsOutbox+" WHERE bucket = ? AND shard = ?", b, contract.OutboxShard(ev.Device)).WithContext(ctx).Iter()
		var p string
		for iter.Scan(&p) {
			payloads = append(payloads, p)
		}
		if err := iter.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(payloads) != 2 || !strings.Contains(payloads[0], ev.ID) {
		t.Fatalf("outbox rows %q, want the event twice", payloads)
	}
	if _, err := store.Get(ctx, uuid.Must(uuid.NewV7()).String()); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("get of an unknown id: %v, want ErrNotFound", err)
	}
}
