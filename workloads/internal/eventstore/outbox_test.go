package eventstore

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
)

func TestOutboxStatementIsLastAndCarriesTheEvent(t *testing.T) {
	ev := contract.Event{V: 1, ID: "0193a1b2-7c3d-7e4f-8a5b-000000000001", Site: "s", Device: "dev-7", Kind: "co2", Value: 1234.5,
		Unit: "ppm", Severity: contract.SeverityCritical, At: time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.UTC)}
	ingested := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	plain, err := New(nil, "ks").Statements(ev, ingested)
	if err != nil {
		t.Fatal(err)
	}
	withOutbox, err := New(nil, "ks", WithOutbox("")).Statements(ev, ingested)
	if err != nil {
		t.Fatal(err)
	}
	if len(withOutbox) != len(plain)+1 {
		t.Fatalf("%d statements with the outbox, %d without", len(withOutbox), len(plain))
	}
	for _, st := range plain {
		if strings.Contains(st.CQL, contract.TableEventsOutbox) {
			t.Fatal("the outbox is written without WithOutbox")
		}
	}
	ob := withOutbox[len(withOutbox)-1]
	if !strings.HasPrefix(ob.CQL, "INSERT INTO ks."+contract.TableEventsOutbox+" (bucket, shard, tid, id, device, payload, ingested_at)") {
		t.Fatalf("outbox statement %s", ob.CQL)
	}
	if b := ob.Args[0].(time.Time); !b.Equal(contract.OutboxBucketOf(ingested)) {
		t.Fatalf("bucket %s", b)
	}
	if s := ob.Args[1].(int); s != contract.OutboxShard(ev.Device) {
		t.Fatalf("shard %d", s)
	}
	if tid := ob.Args[2].(gocql.UUID); !tid.Time().Equal(ingested) {
		t.Fatalf("tid time %s, want %s", tid.Time(), ingested)
	}
	var back contract.Event
	if err := json.Unmarshal([]byte(ob.Args[5].(string)), &back); err != nil {
		t.Fatal(err)
	}
	if !back.At.Equal(ev.At.Truncate(time.Millisecond)) || back.ID != ev.ID || back.Value != ev.Value {
		t.Fatalf("payload %+v", back)
	}
	if custom, _ := New(nil, "ks", WithOutbox("other_outbox")).Statements(ev, ingested); !strings.Contains(custom[len(custom)-1].CQL, "ks.other_outbox ") {
		t.Fatal("WithOutbox ignores its table")
	}
}
