package stackreaper

import (
	"strings"
	"testing"
	"time"
)

func TestParseStackList(t *testing.T) {
	data := []byte(`[
  {"name": "dev", "current": true, "lastUpdate": "2026-03-09T10:11:12.345Z", "updateInProgress": false, "resourceCount": 42},
  {"name": "org/sluice/review-pr7", "current": false, "updateInProgress": true, "url": "https://example.invalid/x"},
  {"name": "prod", "lastUpdate": "2026-03-01T00:00:00.000+02:00"}
]`)
	got, err := ParseStackList(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d stacks", len(got))
	}
	want := time.Date(2026, 3, 9, 10, 11, 12, 345e6, time.UTC)
	if got[0].Name != "dev" || !got[0].LastUpdate.Equal(want) || got[0].UpdateInProgress {
		t.Fatalf("dev = %+v", got[0])
	}
	if got[1].Name != "org/sluice/review-pr7" || !got[1].LastUpdate.IsZero() || !got[1].UpdateInProgress {
		t.Fatalf("review = %+v", got[1])
	}
	if !got[2].LastUpdate.Equal(time.Date(2026, 2, 28, 22, 0, 0, 0, time.UTC)) {
		t.Fatalf("prod = %+v", got[2])
	}

	empty, err := ParseStackList([]byte("[]\n"))
	if err != nil || len(empty) != 0 {
		t.Fatalf("empty list: %v %v", empty, err)
	}
}

func TestParseStackListMalformed(t *testing.T) {
	cases := map[string]string{
		"empty":         ``,
		"not json":      `NAME LAST UPDATE`,
		"object":        `{"name": "dev"}`,
		"truncated":     `[{"name": "dev"`,
		"trailing":      `[{"name": "dev"}] [{"name": "prod"}]`,
		"stray bracket": `[{"name": "dev"}]]`,
		"no name":       `[{"lastUpdate": "2026-03-09T10:11:12.345Z"}]`,
		"bad time":      `[{"name": "dev", "lastUpdate": "yesterday"}]`,
		"wrong type":    `[{"name": 3}]`,
	}
	for name, in := range cases {
		if _, err := ParseStackList([]byte(in)); err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
	_, err := ParseStackList([]byte(`[{"name": "a", "lastUpdate": "x"}, {"name": "b", "lastUpdate": "y"}]`))
	if err == nil || !strings.Contains(err.Error(), "stack a") || !strings.Contains(err.Error(), "stack b") {
		t.Fatalf("both bad entries should be listed: %v", err)
	}
}

func TestParseTags(t *testing.T) {
	tags, err := ParseTags([]byte(`{"pulumi:project": "sluice", "sluice:ttl-hours": "24"}`))
	if err != nil {
		t.Fatal(err)
	}
	if tags[TagTTLHours] != "24" || tags["pulumi:project"] != "sluice" {
		t.Fatalf("tags = %v", tags)
	}
	for _, bad := range []string{``, `[]`, `{"a": 1}`, `{"a": "b"`} {
		if _, err := ParseTags([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{
  "sluice:ttlHours": {"value": "48", "secret": false},
  "sluice:dbPassword": {"secret": true},
  "sluice:sizes": {"value": "{\"nodes\":1}", "objectValue": {"nodes": 1}, "secret": false},
  "azure-native:location": {"value": "westeurope", "secret": false}
}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg[ConfigTTLHours] != "48" || cfg["azure-native:location"] != "westeurope" {
		t.Fatalf("cfg = %v", cfg)
	}
	if _, ok := cfg["sluice:dbPassword"]; ok {
		t.Fatal("secret value kept")
	}
	if _, ok := cfg["sluice:sizes"]; ok {
		t.Fatal("object value kept")
	}
	for _, bad := range []string{``, `[]`, `{"k": "v"}`, `{"k": {"value": 3}}`} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
