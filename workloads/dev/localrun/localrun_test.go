package localrun

import (
	"strings"
	"testing"
)

const exposition = `# HELP sluice_ingest_lag Records behind.
# TYPE sluice_ingest_lag gauge
sluice_ingest_lag{partition="0",topic="t"} 5
sluice_ingest_lag{partition="1",topic="t"} 0
sluice_ingest_written_total 42
odd{msg="say \"hi\"",partition="7"} 1
`

func TestParseSeriesKeepsLabelsAndSumByNameAddsThem(t *testing.T) {
	series, err := ParseSeries(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	if v := series[`sluice_ingest_lag{partition="0",topic="t"}`]; v != 5 {
		t.Errorf("partition 0 lag = %v, want 5", v)
	}
	sums := SumByName(series)
	if sums["sluice_ingest_lag"] != 5 || sums["sluice_ingest_written_total"] != 42 {
		t.Errorf("sums = %v", sums)
	}
	m, err := ParseMetrics(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	if m["sluice_ingest_lag"] != 5 {
		t.Errorf("ParseMetrics lag = %v, want 5", m["sluice_ingest_lag"])
	}
}

func TestLabel(t *testing.T) {
	for _, c := range []struct {
		series, label, want string
		ok                  bool
	}{
		{`x{partition="3",topic="t"}`, "partition", "3", true},
		{`x{partition="3",topic="t"}`, "topic", "t", true},
		{`x{partition="3",topic="t"}`, "reason", "", false},
		{`x 1`, "partition", "", false},
		{`odd{msg="say \"hi\"",partition="7"}`, "partition", "7", true},
		{`odd{msg="say \"hi\"",partition="7"}`, "msg", `say \"hi\"`, true},
	} {
		got, ok := Label(c.series, c.label)
		if got != c.want || ok != c.ok {
			t.Errorf("Label(%s, %s) = %q, %v; want %q, %v", c.series, c.label, got, ok, c.want, c.ok)
		}
	}
}
