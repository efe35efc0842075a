package enrich_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
	"github.com/sluicehq/sluice/workloads/internal/enrich"
)

var update = flag.Bool("update", false, "rewrite "+enrich.SparkSQLPath+" from this package")

// The Spark job reads the statements it shares with the Go job from a
// generated file; it must be what this package says.
func TestSparkSQLFileIsGenerated(t *testing.T) {
	want, err := enrich.SparkSQLJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(roottest.Root(t), enrich.SparkSQLPath)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./workloads/internal/enrich -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from package enrich; run `go test ./workloads/internal/enrich -update` and commit it", enrich.SparkSQLPath)
	}
}

// Both engines write the same columns: the list the Spark job stages and
// the one in the Go job's statements.
func TestSparkMergeWritesTheEnrichedColumns(t *testing.T) {
	s := enrich.Spark()
	m := regexp.MustCompile(`(?s)INSERT INTO enriched_events AS e \((.*?)\)`).FindStringSubmatch(s.Merge)
	if m == nil {
		t.Fatalf("merge has no column list: %s", s.Merge)
	}
	var cols []string
	for _, c := range strings.Split(m[1], ",") {
		cols = append(cols, strings.TrimSpace(c))
	}
	want := append(append([]string{}, enrich.EnrichedColumns...), "run_id")
	if strings.Join(cols, ",") != strings.Join(want, ",") {
		t.Fatalf("merge writes %v, want %v", cols, want)
	}
	if !strings.Contains(s.Succeed, "status = 'running'") {
		t.Fatalf("the Spark run's success must require a running run: %s", s.Succeed)
	}
}
