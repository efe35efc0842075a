package main

import (
	"strings"
	"testing"
)

func TestE2ERate(t *testing.T) {
	for _, c := range []struct {
		name               string
		asked, share, path float64
		want               float64
		why                string
	}{
		{"asked wins over the ceiling", 300, 0.25, 100, 300, "-rate"},
		{"the demo's rate fits", 0, 0.25, 8000, e2eDemoRate, "the demo's rate"},
		{"the demo's rate at the edge", 0, 0.25, 4 * e2eDemoRate, e2eDemoRate, "the demo's rate"},
		{"a share of a small ceiling", 0, 0.25, 2001, 500, "25% of the whole-path ceiling"},
		{"the share is the flag's", 0, 0.5, 1990, 995, "50% of the whole-path ceiling"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, why := e2eRate(c.asked, c.share, c.path)
			if got != c.want || !strings.Contains(why, c.why) {
				t.Fatalf("e2eRate(%v, %v, %v) = %v, %q; want %v, %q", c.asked, c.share, c.path, got, why, c.want, c.why)
			}
		})
	}
}
