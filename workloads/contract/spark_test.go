package contract_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
	"github.com/sluicehq/sluice/workloads/contract"
)

var update = flag.Bool("update", false, "rewrite the generated files of the contract (the Spark jobs' contract) from this package")

// The Spark jobs read the contract from a generated file: it must be what
// this package generates now.
func TestSparkContractIsCurrent(t *testing.T) {
	want, err := contract.SparkContractJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(roottest.Root(t), contract.SparkContractPath)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./workloads/contract -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the Go contract; run `go test ./workloads/contract -update` and commit it", contract.SparkContractPath)
	}
}

// The patterns Spark applies (Java regular expressions) agree with Decode
// on the same inputs, and the tables it writes are in the keyspace.
func TestSparkContractRules(t *testing.T) {
	c := contract.Spark()
	id := regexp.MustCompile(c.IDPattern)
	for s, ok := range map[string]bool{
		"0193a1b2-7c3d-7e4f-8a5b-000000000001": true, "0193A1B2-7C3D-7E4F-8A5B-000000000001": true,
		"0193a1b27c3d7e4f8a5b000000000001": false, "{0193a1b2-7c3d-7e4f-8a5b-000000000001}": false, "": false,
	} {
		if id.MatchString(s) != ok {
			t.Errorf("id pattern on %q: %v", s, !ok)
		}
	}
	var names []string
	for _, tb := range contract.Tables() {
		names = append(names, tb.Name)
	}
	for _, tb := range c.Tables {
		if !slices.Contains(names, tb.Name) || len(tb.Columns) == 0 {
			t.Errorf("spark table %s is not a keyspace table", tb.Name)
		}
	}
	// The stream job's two and the table the enrich job reads.
	if len(c.Tables) != 3 {
		t.Errorf("spark tables %v", c.Tables)
	}
	// The fields are the wire form's, in order: Event's JSON names.
	var fields, wire []string
	for _, f := range c.Fields {
		fields = append(fields, f.Name)
	}
	et := reflect.TypeOf(contract.Event{})
	for i := 0; i < et.NumField(); i++ {
		name, _, _ := strings.Cut(et.Field(i).Tag.Get("json"), ",")
		wire = append(wire, name)
	}
	if !slices.Equal(fields, wire) {
		t.Errorf("spark fields %v, the event's JSON fields %v", fields, wire)
	}
}
