package pbids

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The file has the shape Power BI Desktop reads: version 0.1, one
// postgresql connection with server (host:port) and database, options and
// a storage mode, and nothing else (no credential).
func TestWriteShape(t *testing.T) {
	var buf bytes.Buffer
	s := Source{Host: "psql-sluice-prod.postgres.database.azure.com", Port: 6432, Database: "sluice"}
	if err := Write(&buf, s, "DirectQuery"); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != "0.1" || len(doc) != 2 {
		t.Fatalf("top level %v, want version 0.1 and connections only", doc)
	}
	conns := doc["connections"].([]any)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0].(map[string]any)
	details := c["details"].(map[string]any)
	addr := details["address"].(map[string]any)
	if details["protocol"] != "postgresql" || addr["server"] != "psql-sluice-prod.postgres.database.azure.com:6432" ||
		addr["database"] != "sluice" || c["mode"] != "DirectQuery" || len(addr) != 2 {
		t.Fatalf("connection %v", c)
	}
	if _, ok := c["options"].(map[string]any); !ok || len(c) != 3 {
		t.Fatalf("connection keys %v, want details, options, mode", c)
	}
	if strings.Contains(strings.ToLower(buf.String()), "password") {
		t.Fatal("the file carries a credential")
	}
}

func TestSources(t *testing.T) {
	s, err := FromStackOutputs(strings.NewReader(`{"postgresHost":"psql.example","postgresPort":6432,"postgresDatabase":"sluice","kafkaBootstrap":"x"}`))
	if err != nil || s.Server() != "psql.example:6432" || s.Database != "sluice" {
		t.Fatalf("stack outputs: %+v, %v", s, err)
	}
	if _, err := FromStackOutputs(strings.NewReader(`{"postgresHost":"psql.example"}`)); err == nil || !strings.Contains(err.Error(), "make up") {
		t.Fatalf("outputs without the port: %v", err)
	}
	s, err = FromURL("postgres://sluice:sluice@127.0.0.1:15432/sluice?sslmode=disable")
	if err != nil || s.Server() != "127.0.0.1:15432" || s.Database != "sluice" {
		t.Fatalf("local URL: %+v, %v", s, err)
	}
	for _, bad := range []string{"mysql://h/db", "postgres://h:99999/db", "postgres://h:5432/"} {
		if _, err := FromURL(bad); err == nil {
			t.Errorf("FromURL(%q) accepted", bad)
		}
	}
	if err := Write(&bytes.Buffer{}, Source{Host: "h", Port: 1, Database: "d"}, "Live"); err == nil {
		t.Error("an unknown mode was accepted")
	}
}
