package eventstore

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
)

// Each row's arguments are its table's columns, in order, with the event's
// values: the values computed once per event land in the right places.
func TestStatementsBindEveryColumnOfEachTable(t *testing.T) {
	ev := contract.Event{V: 1, ID: "0193a1b2-7c3d-7e4f-8a5b-000000000002", Site: "site-3", Device: "dev-9", Kind: "temp", Value: -4.25,
		Unit: "C", Severity: contract.SeverityCritical, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Attrs: map[string]string{"fw": "1.2"}}
	ingested := time.Date(2026, 1, 2, 3, 4, 6, 0, time.FixedZone("x", 3600))
	id, err := gocql.ParseUUID(ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := New(nil, "ks").Statements(ev, ingested)
	if err != nil {
		t.Fatal(err)
	}
	tables := Tables(ev)
	if len(stmts) != len(tables) {
		t.Fatalf("%d statements for %d tables", len(stmts), len(tables))
	}
	byName := map[string]contract.Table{}
	for _, tb := range contract.Tables() {
		byName[tb.Name] = tb
	}
	want := map[string]any{
		"id": id, "day": contract.Day(ev.At), "hour": contract.Hour(ev.At), "shard": contract.Shard(ev.ID),
		"site": ev.Site, "device": ev.Device, "kind": ev.Kind, "value": ev.Value, "unit": ev.Unit,
		"severity": ev.Severity, "at": ev.At, "attrs": ev.Attrs, "ingested_at": ingested.UTC(),
	}
	for i, table := range tables {
		st := stmts[i]
		if !strings.HasPrefix(st.CQL, "INSERT INTO ks."+table+" (") {
			t.Fatalf("statement %d is %s, want table %s", i, st.CQL, table)
		}
		cols := byName[table].Columns
		if len(st.Args) != len(cols) {
			t.Fatalf("%s: %d args for %d columns", table, len(st.Args), len(cols))
		}
		for j, c := range cols {
			w, ok := want[c.Name]
			if !ok {
				t.Fatalf("%s: column %s has no expected value in this test", table, c.Name)
			}
			if !reflect.DeepEqual(st.Args[j], w) {
				t.Errorf("%s.%s = %#v, want %#v", table, c.Name, st.Args[j], w)
			}
		}
	}
}
