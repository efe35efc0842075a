package enrichtest

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestEventsAreDeterministicAndValid(t *testing.T) {
	from := time.Date(2011, 3, 1, 0, 0, 0, 0, time.UTC)
	g := NewGen(7, from, time.Hour, 12, 500)
	g.UnknownDevices = 0.5
	h := NewGen(7, from, time.Hour, 12, 500)
	h.UnknownDevices = 0.5
	seen := map[string]bool{}
	unknown := 0
	for i := range 2000 {
		a, b := g.Event(i), h.Event(i)
		if a.ID != b.ID || a.At != b.At || a.Value != b.Value || a.Device != b.Device {
			t.Fatalf("event %d differs between equal generators", i)
		}
		id, err := uuid.Parse(a.ID)
		if err != nil || id.Version() != 7 || len(a.ID) != 36 {
			t.Fatalf("event %d id %q: %v", i, a.ID, err)
		}
		if seen[a.ID] {
			t.Fatalf("event %d repeats id %s", i, a.ID)
		}
		seen[a.ID] = true
		if a.At.Before(from) || !a.At.Before(from.Add(time.Hour)) {
			t.Fatalf("event %d at %s is outside the span", i, a.At)
		}
		if err := a.Validate(from.Add(2 * time.Hour)); err != nil {
			t.Fatalf("event %d breaks the contract: %v", i, err)
		}
		if dev, _ := g.Known(a); !dev {
			unknown++
		}
	}
	if unknown < 800 || unknown > 1200 {
		t.Errorf("%d of 2000 events from unknown devices, want about half", unknown)
	}
}
