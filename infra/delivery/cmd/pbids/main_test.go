package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/delivery/pbids"
)

func TestFromAStacksOutputs(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "pulumi")
	script := "#!/bin/sh\n[ \"$*\" = \"stack output --json --stack prod\" ] || exit 3\n" +
		`echo '{"postgresHost":"psql-sluice-prod.postgres.database.azure.com","postgresPort":6432,"postgresDatabase":"sluice"}'` + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "prod.pbids")
	var out, errOut bytes.Buffer
	if code := run([]string{"-stack", "prod", "-pulumi", fake, "-o", file}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := pbids.Write(&want, pbids.Source{Host: "psql-sluice-prod.postgres.database.azure.com", Port: 6432, Database: "sluice"}, "DirectQuery"); err != nil {
		t.Fatal(err)
	}
	if string(data) != want.String() {
		t.Fatalf("file:\n%s\nwant:\n%s", data, want.String())
	}
	if !strings.Contains(out.String(), "psql-sluice-prod.postgres.database.azure.com:6432") {
		t.Fatalf("output %q", out.String())
	}
}

func TestArguments(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "give -stack") {
		t.Fatalf("no source: exit %d, %q", code, errOut.String())
	}
	file := filepath.Join(t.TempDir(), "local.pbids")
	if code := run([]string{"-url", "postgres://sluice:sluice@127.0.0.1:15432/sluice", "-mode", "Import", "-o", file}, &out, &errOut); code != 0 {
		t.Fatalf("local: exit %d, %q", code, errOut.String())
	}
	if data, _ := os.ReadFile(file); !strings.Contains(string(data), `"server": "127.0.0.1:15432"`) || strings.Contains(string(data), "sluice:sluice") {
		t.Fatalf("local file:\n%s", data)
	}
}
