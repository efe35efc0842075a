package contract

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestOutboxStaysOutOfCosmosTables(t *testing.T) {
	for _, tb := range Tables() {
		if tb.Name == TableEventsOutbox {
			t.Fatal("the outbox is in Tables, which become Cosmos DB tables; Cosmos has a native change feed")
		}
	}
	ob := OutboxTables()
	if len(ob) != 1 || ob[0].Name != TableEventsOutbox {
		t.Fatalf("OutboxTables = %+v", ob)
	}
	cql := ob[0].CreateCQL(Keyspace)
	for _, want := range []string{"PRIMARY KEY ((bucket, shard), tid)", "tid timeuuid", "CLUSTERING ORDER BY (tid ASC)", fmt.Sprintf("default_time_to_live = %d", OutboxTTLSeconds)} {
		if !strings.Contains(cql, want) {
			t.Errorf("outbox CQL lacks %q: %s", want, cql)
		}
	}
}

func TestLeaseTableIsInTables(t *testing.T) {
	for _, tb := range Tables() {
		if tb.Name != TableChangefeedLeases {
			continue
		}
		cql := tb.CreateCQL(Keyspace)
		if !strings.Contains(cql, "PRIMARY KEY ((feed, feed_range))") {
			t.Fatalf("lease table key: %s", cql)
		}
		for _, c := range []string{"owner", "epoch", "lease_until", "checkpoint"} {
			if _, ok := tb.Column(c); !ok {
				t.Errorf("lease table lacks %s", c)
			}
		}
		return
	}
	t.Fatal("the change-feed lease table is not in Tables; Cosmos DB needs it too")
}

func TestOutboxShardAndBucket(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 200; i++ {
		d := fmt.Sprintf("dev-%05d", i)
		s := OutboxShard(d)
		if s < 0 || s >= OutboxShards || OutboxShard(d) != s {
			t.Fatalf("OutboxShard(%s) = %d", d, s)
		}
		seen[s] = true
	}
	if len(seen) != OutboxShards {
		t.Fatalf("devices spread over %d of %d shards", len(seen), OutboxShards)
	}
	at := time.Date(2026, 5, 6, 7, 8, 9, 10, time.FixedZone("X", 3600))
	if got, want := OutboxBucketOf(at), time.Date(2026, 5, 6, 6, 8, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("bucket %s, want %s", got, want)
	}
}
