package main

import (
	"bytes"
	"testing"
)

func TestTrustLevel(t *testing.T) {
	for stack, want := range map[string]string{"review-pr9": "review\n", "dev-bob": "dev\n", "org/sluice/prod": "prod\n"} {
		var out, errb bytes.Buffer
		if code := realMain([]string{stack}, &out, &errb); code != 0 || out.String() != want {
			t.Errorf("%s: exit %d, %q (%s); want %q", stack, code, out.String(), errb.String(), want)
		}
	}
	var out, errb bytes.Buffer
	if code := realMain([]string{"production"}, &out, &errb); code != 1 || out.Len() != 0 {
		t.Errorf("unknown stack: exit %d, printed %q", code, out.String())
	}
	if code := realMain(nil, &out, &errb); code != 2 {
		t.Errorf("no stack: exit %d", code)
	}
}
