package simulate

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
)

func TestGeneratedRecordsMatchTheContract(t *testing.T) {
	g, err := NewGenerator(5, 70, Mix{Warning: 0.1, Critical: 0.05, Invalid: 0.2}, 7)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const n = 20000
	var valid, invalid, crit, warn int
	seenInvalid := map[string]bool{}
	for i := 0; i < n; i++ {
		r := g.Next(now)
		ev, err := contract.Decode(r.Value, now)
		if r.Invalid != "" {
			invalid++
			seenInvalid[r.Invalid] = true
			if !errors.Is(err, contract.ErrInvalid) {
				t.Fatalf("deliberately invalid record (%s) accepted: %s", r.Invalid, r.Value)
			}
			continue
		}
		if err != nil {
			t.Fatalf("valid record rejected: %v: %s", err, r.Value)
		}
		valid++
		if string(r.Key) != ev.Device || ev.ID != r.Event.ID {
			t.Fatalf("key %q / event %+v mismatch", r.Key, ev)
		}
		switch ev.Severity {
		case contract.SeverityCritical:
			crit++
		case contract.SeverityWarning:
			warn++
		}
	}
	near := func(got int, share float64, of int) bool {
		return math.Abs(float64(got)/float64(of)-share) < 0.02
	}
	if !near(invalid, 0.2, n) || !near(crit, 0.05, valid) || !near(warn, 0.1, valid) {
		t.Fatalf("mix off: invalid %d crit %d warn %d of %d (%d valid)", invalid, crit, warn, n, valid)
	}
	if len(seenInvalid) != len(invalidKinds) {
		t.Fatalf("only %d of %d invalid kinds produced: %v", len(seenInvalid), len(invalidKinds), seenInvalid)
	}
}

func TestFleetIsDeterministicAndConsistent(t *testing.T) {
	s1, d1 := Fleet(12, 500)
	s2, d2 := Fleet(12, 500)
	if len(s1) != 12 || len(d1) != 500 || s1[11] != s2[11] || d1[499] != d2[499] {
		t.Fatal("fleet not deterministic")
	}
	sites := map[string]bool{}
	for _, s := range s1 {
		sites[s.ID] = true
	}
	for _, d := range d1 {
		if !sites[d.SiteID] {
			t.Fatalf("device %s at unknown site %s", d.ID, d.SiteID)
		}
	}
}

func TestBadInputs(t *testing.T) {
	if _, err := NewGenerator(0, 1, DefaultMix, 1); err == nil {
		t.Error("zero sites accepted")
	}
	if _, err := NewGenerator(1, 1, Mix{Warning: 0.8, Critical: 0.3}, 1); err == nil {
		t.Error("shares over 1 accepted")
	}
	if err := (Plan{Rate: 10}).Validate(); err == nil {
		t.Error("endless plan accepted")
	}
}

func TestReadingKeepsEachSeverityInItsBand(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	mix := Mix{Warning: 0.2, Critical: 0.1}
	counts := map[string]int{}
	for i := range 20000 {
		k := Kinds[i%len(Kinds)]
		sev, v := Reading(k, mix, rng)
		counts[sev]++
		var lo, hi float64
		switch sev {
		case contract.SeverityInfo:
			lo, hi = k.Min, k.Max
		case contract.SeverityWarning:
			lo, hi = k.Warn, math.Max(k.Warn, k.Crit)
		case contract.SeverityCritical:
			lo, hi = k.Crit, k.Crit+math.Max(1, (k.Crit-k.Warn)/2)
		}
		if k.Name == "door" || k.Name == "smoke" {
			lo, hi = math.Round(lo), math.Round(hi)
			if sev != contract.SeverityInfo {
				lo, hi = 1, 1
			}
		}
		if v < lo || v > hi {
			t.Fatalf("%s %s reading %g outside [%g, %g]", k.Name, sev, v, lo, hi)
		}
	}
	if c := counts[contract.SeverityCritical]; c < 1700 || c > 2300 {
		t.Errorf("%d of 20000 readings critical, want about 2000", c)
	}
	if w := counts[contract.SeverityWarning]; w < 3600 || w > 4400 {
		t.Errorf("%d of 20000 readings warnings, want about 4000", w)
	}
}
