package simulate

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sluicehq/sluice/workloads/contract"
)

// Mix sets the shares of warnings, criticals and invalid records, each in [0, 1].
type Mix struct {
	Warning  float64
	Critical float64
	Invalid  float64
}

// DefaultMix is mostly info, a few warnings, a sprinkle of criticals, and no
// invalid records.
var DefaultMix = Mix{Warning: 0.05, Critical: 0.01}

// Validate reports a mix whose shares cannot be honoured.
func (m Mix) Validate() error {
	for _, s := range []struct {
		n string
		v float64
	}{{"warning", m.Warning}, {"critical", m.Critical}, {"invalid", m.Invalid}} {
		if math.IsNaN(s.v) || s.v < 0 || s.v > 1 {
			return fmt.Errorf("%s share %g is not in [0, 1]", s.n, s.v)
		}
	}
	if m.Warning+m.Critical > 1 {
		return fmt.Errorf("warning + critical shares %g exceed 1", m.Warning+m.Critical)
	}
	return nil
}

// Record is one record to produce. Event is set for valid records only.
type Record struct {
	Key   []byte
	Value []byte
	Event *contract.Event
	// Invalid names the rule a deliberately invalid record breaks.
	Invalid string
}

// Generator makes records for a fleet. It is not safe for concurrent use.
type Generator struct {
	sites   []Site
	devices []Device
	mix     Mix
	rng     *rand.Rand
}

// NewGenerator returns a generator over a fleet; seed makes runs repeatable.
func NewGenerator(sites, devices int, mix Mix, seed uint64) (*Generator, error) {
	if sites < 1 || devices < 1 {
		return nil, fmt.Errorf("need at least one site and one device, got %d and %d", sites, devices)
	}
	if err := mix.Validate(); err != nil {
		return nil, err
	}
	ss, ds := Fleet(sites, devices)
	return &Generator{sites: ss, devices: ds, mix: mix, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// Next returns the next record, stamped at now.
func (g *Generator) Next(now time.Time) Record {
	d := g.devices[g.rng.IntN(len(g.devices))]
	ev := g.event(d, now)
	if g.mix.Invalid > 0 && g.rng.Float64() < g.mix.Invalid {
		return g.invalid(ev)
	}
	b, err := ev.Marshal()
	if err != nil {
		// Generated values are finite by construction.
		panic(fmt.Sprintf("simulate: marshal generated event: %v", err))
	}
	return Record{Key: []byte(ev.Device), Value: b, Event: &ev}
}

func (g *Generator) event(d Device, now time.Time) contract.Event {
	sev, value := Reading(d.Kind, g.mix, g.rng)
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	return contract.Event{
		V: contract.SchemaVersion, ID: id.String(), Site: d.SiteID, Device: d.ID,
		Kind: d.Kind.Name, Value: value, Unit: d.Kind.Unit, Severity: sev, At: now.UTC(), Attrs: Attrs(d, g.rng),
	}
}

// Reading is the value model: it draws a reading of kind k from rng, its
// severity by mix's shares (critical, then warning, else info) and its value
// in that severity's band: the plausible range for info, from Warn towards
// Crit for a warning, from Crit upwards for a critical. Door and smoke read
// 0 or 1, the others have two decimals. Other generators of events (the
// batch tests' deterministic windows) call it so every event in the system
// is modelled the same way.
func Reading(k Kind, mix Mix, rng *rand.Rand) (severity string, value float64) {
	severity = contract.SeverityInfo
	value = k.Min + rng.Float64()*(k.Max-k.Min)
	switch r := rng.Float64(); {
	case r < mix.Critical:
		severity = contract.SeverityCritical
		value = k.Crit + rng.Float64()*math.Max(1, (k.Crit-k.Warn)/2)
	case r < mix.Critical+mix.Warning:
		severity = contract.SeverityWarning
		value = k.Warn + rng.Float64()*math.Max(0, k.Crit-k.Warn)
	}
	if k.Name == "door" || k.Name == "smoke" {
		value = math.Round(value)
		if severity != contract.SeverityInfo {
			value = 1
		}
	} else {
		value = math.Round(value*100) / 100
	}
	return severity, value
}

// Attrs draws the attributes a device sends with a reading: its model and
// firmware with one reading in four, none otherwise (nil).
func Attrs(d Device, rng *rand.Rand) map[string]string {
	if rng.IntN(4) != 0 {
		return nil
	}
	return map[string]string{"model": d.Model, "fw": fmt.Sprintf("1.%d", rng.IntN(5))}
}

// invalidKinds are the ways a deliberately invalid record breaks the contract.
var invalidKinds = []string{"not-json", "missing-id", "bad-severity", "future-time", "bad-site", "wrong-type", "bad-version", "too-many-attrs"}

func (g *Generator) invalid(ev contract.Event) Record {
	kind := invalidKinds[g.rng.IntN(len(invalidKinds))]
	b, _ := ev.Marshal()
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	switch kind {
	case "not-json":
		return Record{Key: []byte(ev.Device), Value: []byte(`{"v":1,"id":` + strings.Repeat("[", 3)), Invalid: kind}
	case "missing-id":
		delete(m, "id")
	case "bad-severity":
		m["severity"] = "panic"
	case "future-time":
		m["at"] = ev.At.Add(time.Hour).Format(time.RFC3339Nano)
	case "bad-site":
		m["site"] = "site with spaces/and slashes"
	case "wrong-type":
		m["value"] = "hot"
	case "bad-version":
		m["v"] = 99
	case "too-many-attrs":
		attrs := map[string]string{}
		for i := 0; i <= contract.MaxAttrs; i++ {
			attrs[fmt.Sprintf("k%d", i)] = "v"
		}
		m["attrs"] = attrs
	}
	v, _ := json.Marshal(m)
	return Record{Key: []byte(ev.Device), Value: v, Invalid: kind}
}
