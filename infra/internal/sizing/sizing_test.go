package sizing

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// load applies a plan's settings to prod's stack values and runs the stack
// validator on them: a fragment must be a configuration the program accepts.
func load(t *testing.T, p *Plan) error {
	t.Helper()
	root := roottest.Root(t)
	values, err := config.StackValues(root, "prod")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.Values() {
		values[k] = v
	}
	_, err = config.Load("prod", func(k string) (string, bool) { v, ok := values[k]; return v, ok })
	return err
}

func TestSizeAThousandEventsPerSecond(t *testing.T) {
	p, err := Size(Input{Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"eventHubsSku": "Standard", "eventHubsCapacity": 1, "eventHubsPartitions": 2,
		"cosmosAutoscaleMaxThroughput": 24000, "ingestMaxReplicas": 2, "postgresSkuName": "Standard_D2ds_v5"}
	for k, v := range want {
		if p.Settings[k] != v {
			t.Errorf("%s = %v, want %v\n%s", k, p.Settings[k], v, strings.Join(p.Reasons, "\n"))
		}
	}
	if err := load(t, p); err != nil {
		t.Fatalf("the fragment does not validate: %v\n%s", err, p.Fragment())
	}
}

func TestSizeFiftyThousandNeedsPremium(t *testing.T) {
	p, err := Size(Input{Rate: 50000})
	if err != nil {
		t.Fatal(err)
	}
	// 50,000 events/s needs 50 TUs by event count (Standard stops at 40)
	// and 50 partitions (Standard: 32); 20 MB/s is 4 Premium PUs.
	if p.Settings["eventHubsSku"] != "Premium" || p.Settings["eventHubsCapacity"] != 4 || p.Settings["eventHubsPartitions"] != 50 {
		t.Fatalf("event hubs %v %v %v\n%s", p.Settings["eventHubsSku"], p.Settings["eventHubsCapacity"], p.Settings["eventHubsPartitions"], strings.Join(p.Reasons, "\n"))
	}
	if p.Settings["ingestMaxReplicas"] != 13 || p.Dedicated {
		t.Fatalf("ingest %v, dedicated %v", p.Settings["ingestMaxReplicas"], p.Dedicated)
	}
	// 3.05 rows × 6 RU × 1.3 × 50,000 = 1,189,500 RU/s.
	if p.Settings["cosmosAutoscaleMaxThroughput"] != 1190000 {
		t.Fatalf("cosmos %v", p.Settings["cosmosAutoscaleMaxThroughput"])
	}
	if err := load(t, p); err != nil {
		t.Fatalf("the fragment does not validate: %v\n%s", err, p.Fragment())
	}
}

func TestSizeAMillionNeedsDedicated(t *testing.T) {
	p, err := Size(Input{Rate: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Dedicated || p.Settings["eventHubsSku"] != nil {
		t.Fatalf("a million events/s: dedicated %v, sku %v", p.Dedicated, p.Settings["eventHubsSku"])
	}
	if !strings.Contains(strings.Join(p.Reasons, "\n"), "Event Hubs Dedicated required") {
		t.Fatalf("reasons do not say so:\n%s", strings.Join(p.Reasons, "\n"))
	}
	// The point where Premium ends: 16 PUs × 5 MB/s = 80 MB/s, 100 partitions.
	below, _ := Size(Input{Rate: 99_000, EventBytes: 800})
	above, _ := Size(Input{Rate: 101_000, EventBytes: 100})
	if below.Dedicated || !above.Dedicated {
		t.Fatalf("99,000 × 800 B (79 MB/s, 99 partitions): dedicated %v; 101,000 × 100 B (101 partitions): dedicated %v", below.Dedicated, above.Dedicated)
	}
}

func TestSizeRefusesNonsense(t *testing.T) {
	for _, in := range []Input{{Rate: 0}, {Rate: -5}, {Rate: 10, EventBytes: -1}, {Rate: 10, RetentionDays: 365}, {Rate: 10, CriticalShare: 2}} {
		if _, err := Size(in); err == nil {
			t.Errorf("Size(%+v) accepted", in)
		}
	}
}
