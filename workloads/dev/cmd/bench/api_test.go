package main

import (
	"slices"
	"testing"
)

func TestParseLevels(t *testing.T) {
	got, err := parseLevels("128, 32,64,32")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{32, 64, 128}) {
		t.Fatalf("levels %v, want [32 64 128]", got)
	}
	for _, bad := range []string{"", "0", "32,", "x", "5000", "-1"} {
		if _, err := parseLevels(bad); err == nil {
			t.Errorf("parseLevels(%q) accepted", bad)
		}
	}
}
