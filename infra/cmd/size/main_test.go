package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestOutput(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-rate", "1000"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "# Sizing for 1000 events/s") || !strings.Contains(out.String(), "\nconfig:\n  sluice:") {
		t.Fatalf("output:\n%s", out.String())
	}
	if code := run(nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "RATE must be a positive number") {
		t.Fatalf("no rate: exit %d, %q", code, errOut.String())
	}
}
