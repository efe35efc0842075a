package contract

import (
	"fmt"
	"strings"
	"testing"
)

func TestTablesHaveDesignKeys(t *testing.T) {
	want := map[string]string{
		TableEventsByDevice: "PRIMARY KEY ((device, day), at, id)",
		TableEventsByID:     "PRIMARY KEY (id)",
		TableCriticalBySite: "PRIMARY KEY ((site, day), at, id)",
		TableEventsByHour:   "PRIMARY KEY ((hour, shard), at, id)",
	}
	seen := 0
	for _, tb := range Tables() {
		cql := tb.CreateCQL(Keyspace)
		if w, ok := want[tb.Name]; ok {
			seen++
			if !strings.Contains(cql, w) {
				t.Errorf("%s: %s lacks %s", tb.Name, cql, w)
			}
		}
		if !strings.HasPrefix(cql, "CREATE TABLE IF NOT EXISTS sluice."+tb.Name+" (") {
			t.Errorf("%s: not idempotent or wrong keyspace: %s", tb.Name, cql)
		}
		for _, k := range tb.PartitionKey {
			if _, ok := tb.Column(k); !ok {
				t.Errorf("%s: partition key %s is not a column", tb.Name, k)
			}
		}
		for _, k := range tb.ClusteringKey {
			if _, ok := tb.Column(k.Name); !ok || (k.Order != "ASC" && k.Order != "DESC") {
				t.Errorf("%s: clustering key %+v invalid", tb.Name, k)
			}
		}
	}
	if seen != len(want) {
		t.Fatalf("found %d of the %d design tables", seen, len(want))
	}
}

func TestCreateCQLClusteringAndTTL(t *testing.T) {
	tb := Table{Name: "t", Columns: []Column{{"a", "text"}, {"b", "timestamp"}}, PartitionKey: []string{"a"},
		ClusteringKey: []ClusteringColumn{{"b", "DESC"}}, DefaultTTLSeconds: 60, Comment: "it's"}
	got := tb.CreateCQL("ks")
	want := "CREATE TABLE IF NOT EXISTS ks.t (a text, b timestamp, PRIMARY KEY (a, b)) WITH CLUSTERING ORDER BY (b DESC) AND default_time_to_live = 60 AND comment = 'it''s'"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestTablesReturnsFreshSlices(t *testing.T) {
	a := Tables()
	a[0].Columns[0].Name = "changed"
	if Tables()[0].Columns[0].Name == "changed" {
		t.Fatal("Tables shares state between calls")
	}
}

func TestShardIsStableAndInRange(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 1000; i++ {
		id := fmt.Sprintf("0193a1b2-7c3d-7e4f-8a5b-%012d", i)
		s := Shard(id)
		if s < 0 || s >= HourShards || Shard(id) != s {
			t.Fatalf("Shard(%s) = %d", id, s)
		}
		seen[s] = true
	}
	if len(seen) != HourShards {
		t.Fatalf("ids spread over %d of %d shards", len(seen), HourShards)
	}
}
