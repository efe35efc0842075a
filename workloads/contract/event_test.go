package contract

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

const validJSON = `{"v":1,"id":"0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b","site":"site-001","device":"dev-00001",
"kind":"temperature","value":21.5,"unit":"C","severity":"info","at":"2026-11-21T11:59:00+01:00","attrs":{"fw":"1.2"}}`

func TestDecodeValid(t *testing.T) {
	ev, err := Decode([]byte(validJSON), now)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b" || ev.Site != "site-001" || ev.Value != 21.5 || ev.Attrs["fw"] != "1.2" {
		t.Fatalf("decoded %+v", ev)
	}
	if want := time.Date(2026, 11, 21, 10, 59, 0, 0, time.UTC); !ev.At.Equal(want) || ev.At.Location() != time.UTC {
		t.Fatalf("at = %v, want %v in UTC", ev.At, want)
	}
	round, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode(round, now)
	if err != nil {
		t.Fatalf("re-decode of marshalled event: %v", err)
	}
	if again.At != ev.At || again.ID != ev.ID || again.Value != ev.Value {
		t.Fatalf("round trip changed the event: %+v vs %+v", again, ev)
	}
}

// mutate returns the valid event with one field changed (nil deletes it).
func mutate(t *testing.T, field string, value any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(validJSON), &m); err != nil {
		t.Fatal(err)
	}
	if value == nil {
		delete(m, field)
	} else {
		m[field] = value
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejectsEachRuleWithAReason(t *testing.T) {
	manyAttrs := map[string]string{}
	for i := 0; i < MaxAttrs+1; i++ {
		manyAttrs[strings.Repeat("k", i+1)] = "v"
	}
	cases := []struct {
		field  string
		value  any
		reason string
	}{
		{"v", nil, "v: missing"},
		{"v", 2, "v: unsupported schema version 2"},
		{"id", nil, "id: missing"},
		{"id", "not-a-uuid", "id: not a UUID"},
		{"id", "{0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b}", "id: not a UUID"},
		{"site", "", "site: must be 1-64"},
		{"site", strings.Repeat("s", 65), "site: must be 1-64"},
		{"site", "bad site", "site: must be"},
		{"device", nil, "device: missing"},
		{"device", "dev/1", "device: must be"},
		{"kind", "Temperature", "kind: must match"},
		{"kind", "", "kind: must match"},
		{"value", nil, "value: missing"},
		{"unit", strings.Repeat("u", 17), "unit: longer than 16"},
		{"unit", nil, "unit: missing"},
		{"severity", "fatal", "severity: \"fatal\" is not one of"},
		{"at", "2026-11-21 11:59:00", "at: not an RFC 3339"},
		{"at", "2026-11-21T11:59:00", "at: not an RFC 3339"},
		{"at", "2026-11-21T1:59:00Z", "at: not an RFC 3339"},
		{"at", "1969-12-31T23:59:59Z", "at: before 1970"},
		{"at", "2026-11-21T12:05:01Z", "at: 2026-11-21T12:05:01Z is more than 5m0s in the future"},
		{"attrs", manyAttrs, "attrs: 33 pairs"},
		{"attrs", map[string]string{"": "x"}, "attrs: key \"\" must be"},
		{"attrs", map[string]string{"k": strings.Repeat("v", 257)}, "attrs: value of \"k\" longer than 256"},
	}
	for _, c := range cases {
		_, err := Decode(mutate(t, c.field, c.value), now)
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s=%v: err = %v, want a ValidationError wrapping ErrInvalid", c.field, c.value, err)
			continue
		}
		if !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s=%v: error %q does not say %q", c.field, c.value, err, c.reason)
		}
	}
}

func TestDecodeEdgeOfFutureSkewIsAccepted(t *testing.T) {
	if _, err := Decode(mutate(t, "at", "2026-11-21T12:05:00Z"), now); err != nil {
		t.Fatalf("exactly 5 minutes ahead must pass: %v", err)
	}
}

func TestDecodeListsEveryBrokenRule(t *testing.T) {
	_, err := Decode([]byte(`{"v":1,"site":"a b","kind":"x","value":1,"unit":"u","severity":"nope","at":"2026-01-01T00:00:00Z","device":"d"}`), now)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	got := map[string]bool{}
	for _, f := range ve.Fields {
		got[f.Field] = true
	}
	for _, f := range []string{"id", "site", "severity"} {
		if !got[f] {
			t.Errorf("field %s not reported in %v", f, err)
		}
	}
}

func TestDecodeRejectsNonEvents(t *testing.T) {
	big := `{"v":1,"pad":"` + strings.Repeat("x", MaxRecordBytes) + `"}`
	cases := map[string]string{
		"empty":       ``,
		"not json":    `hello`,
		"array":       `[1,2]`,
		"wrong type":  strings.Replace(validJSON, `21.5`, `"hot"`, 1),
		"attrs types": strings.Replace(validJSON, `"fw":"1.2"`, `"fw":12`, 1),
		"trailing":    validJSON + `{}`,
		"too large":   big,
		"bad utf8":    "{\"v\":1,\"site\":\"\xff\"}",
		"huge number": strings.Replace(validJSON, `21.5`, `1e400`, 1),
	}
	for name, in := range cases {
		_, err := Decode([]byte(in), now)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	_, err := Decode([]byte(big), now)
	if !strings.Contains(err.Error(), "over the 1000000-byte limit") {
		t.Errorf("oversize error does not say why: %v", err)
	}
}

func TestValidateMatchesDecode(t *testing.T) {
	ev, err := Decode([]byte(validJSON), now)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Validate(now); err != nil {
		t.Fatalf("valid event fails Validate: %v", err)
	}
	ev.Severity = "loud"
	if err := ev.Validate(now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate accepted severity %q", ev.Severity)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(validJSON))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"v":1,"id":"x","at":"2026-11-21T12:00:00Z","value":1e308}`))
	f.Add([]byte(`{"attrs":{"a":"b"},"v":1.5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := Decode(data, now)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		// Whatever Decode accepts must survive a round trip unchanged
		// and validate again: producers and consumers agree.
		b, err := ev.Marshal()
		if err != nil {
			t.Fatalf("accepted event does not marshal: %v", err)
		}
		again, err := Decode(b, now)
		if err != nil {
			t.Fatalf("accepted event fails after round trip: %v\ninput: %q\nmarshalled: %q", err, data, b)
		}
		if again.ID != ev.ID || !again.At.Equal(ev.At) || again.Value != ev.Value || again.Site != ev.Site || len(again.Attrs) != len(ev.Attrs) {
			t.Fatalf("round trip changed the event: %+v vs %+v", again, ev)
		}
	})
}
