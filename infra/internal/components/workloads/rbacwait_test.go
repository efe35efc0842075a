package workloads

import (
	"testing"
	"time"
)

func TestPropagationWait(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for createdOn, want := range map[string]time.Duration{
		"2026-12-01T11:59:00Z":         4 * time.Minute,
		"2026-12-01T11:59:30.5+00:00":  4*time.Minute + 30*time.Second + 500*time.Millisecond,
		"2026-12-01T11:55:00Z":         0,
		"2026-12-01T10:00:00Z":         0,
		"":                             0,
		"not a time":                   0,
		"2026-12-01T12:00:00.0000000Z": RBACPropagation,
		"2026-12-01T13:00:00.1234567Z": RBACPropagation + time.Hour + 123456700*time.Nanosecond,
	} {
		if got := propagationWait(createdOn, now); got != want {
			t.Errorf("propagationWait(%q) = %v, want %v", createdOn, got, want)
		}
	}
}
