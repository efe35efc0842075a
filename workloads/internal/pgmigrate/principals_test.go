package pgmigrate

import (
	"slices"
	"strings"
	"testing"
)

func principals() Principals {
	return Principals{
		Migrate:       Principal{Name: "workload-identities-migrate", ObjectID: "0A1B2C3D-0000-4000-8000-000000000001", Type: "service"},
		Enrich:        Principal{Name: "workload-identities-enrich", ObjectID: "0a1b2c3d-0000-4000-8000-000000000002", Type: "service"},
		ReportReaders: []Principal{{Name: "BI Readers", ObjectID: "0a1b2c3d-0000-4000-8000-000000000003", Type: "group"}},
	}
}

func TestBuildCreatesEachPrincipalOnceWithBindArguments(t *testing.T) {
	plan, err := Build(principals(), "sluice")
	if err != nil {
		t.Fatal(err)
	}
	var created [][]any
	for _, s := range plan.Server {
		if strings.Contains(s.SQL, "pgaadauth_create_principal_with_oid") {
			if !strings.Contains(s.SQL, "WHERE NOT EXISTS") || strings.Contains(s.SQL, "workload-identities") {
				t.Errorf("creation is not idempotent or not parameterised: %s", s.SQL)
			}
			created = append(created, s.Args)
		}
	}
	want := [][]any{
		{"workload-identities-migrate", "0a1b2c3d-0000-4000-8000-000000000001", "service"},
		{"workload-identities-enrich", "0a1b2c3d-0000-4000-8000-000000000002", "service"},
		{"BI Readers", "0a1b2c3d-0000-4000-8000-000000000003", "group"},
	}
	if !slices.EqualFunc(created, want, func(a, b []any) bool { return slices.Equal(a, b) }) {
		t.Errorf("created %v, want %v", created, want)
	}
	sqls := func(ss []Statement) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.SQL)
		}
		return out
	}
	server := strings.Join(sqls(plan.Server), "\n")
	for _, must := range []string{
		`GRANT "batch_writer" TO "workload-identities-enrich"`,
		`GRANT "report_reader" TO "BI Readers"`,
		`GRANT "report_reader" TO "powerbi_reader"`,
		`CREATE ROLE "batch_writer" NOLOGIN`,
		`CREATE ROLE "report_reader" NOLOGIN`,
	} {
		if !strings.Contains(server, must) {
			t.Errorf("server statements lack %s:\n%s", must, server)
		}
	}
	if strings.Contains(server, `TO "workload-identities-migrate"`) {
		t.Error("migrate is granted a group role; it owns the schema and needs none")
	}
	if got, want := sqls(plan.Database), []string{
		`GRANT CONNECT, CREATE, TEMPORARY ON DATABASE "sluice" TO "workload-identities-migrate"`,
		`GRANT USAGE, CREATE ON SCHEMA public TO "workload-identities-migrate"`,
		`GRANT CONNECT ON DATABASE "sluice" TO "workload-identities-enrich"`,
		`GRANT CONNECT ON DATABASE "sluice" TO "BI Readers"`,
	}; !slices.Equal(got, want) {
		t.Errorf("database statements:\n got %q\nwant %q", got, want)
	}
	for _, s := range plan.Database {
		if strings.Contains(s.SQL, "enrich") && strings.Contains(s.SQL, "CREATE") {
			t.Errorf("enrich gets DDL: %s", s.SQL)
		}
	}
}

func TestBuildRefusesBadPrincipals(t *testing.T) {
	cases := map[string]func(p *Principals){
		"injection in a name":   func(p *Principals) { p.Enrich.Name = `x"; DROP TABLE sites; --` },
		"quote in a name":       func(p *Principals) { p.Migrate.Name = "o'brien" },
		"object id not a uuid":  func(p *Principals) { p.Enrich.ObjectID = "1' OR '1'='1" },
		"empty object id":       func(p *Principals) { p.Migrate.ObjectID = "" },
		"unknown type":          func(p *Principals) { p.ReportReaders[0].Type = "role" },
		"migrate is not an MI":  func(p *Principals) { p.Migrate.Type = "user" },
		"same name twice":       func(p *Principals) { p.Enrich.Name = p.Migrate.Name },
		"name too long":         func(p *Principals) { p.Enrich.Name = strings.Repeat("a", 64) },
		"reader without a name": func(p *Principals) { p.ReportReaders[0].Name = "" },
	}
	for name, mutate := range cases {
		p := principals()
		p.ReportReaders = append([]Principal(nil), p.ReportReaders...)
		mutate(&p)
		if _, err := Build(p, "sluice"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Build(principals(), "postgres"); err == nil {
		t.Error("the postgres database accepted as the application database")
	}
}

func TestParseReportReaders(t *testing.T) {
	got, err := ParseReportReaders(`[{"name":"BI Readers","objectId":"0a1b2c3d-0000-4000-8000-000000000003","type":"group"}]`)
	if err != nil || len(got) != 1 || got[0].Type != "group" {
		t.Errorf("readers = %v, %v", got, err)
	}
	if got, err := ParseReportReaders(" "); err != nil || got != nil {
		t.Errorf("empty = %v, %v", got, err)
	}
	if _, err := ParseReportReaders("BI Readers"); err == nil {
		t.Error("not JSON accepted")
	}
}

func TestBuildMakesTheAPIAReportReader(t *testing.T) {
	p := principals()
	p.API = Principal{Name: "workload-identities-api", ObjectID: "0a1b2c3d-0000-4000-8000-000000000004", Type: "service"}
	plan, err := Build(p, "sluice")
	if err != nil {
		t.Fatal(err)
	}
	var server, database []string
	created := false
	for _, s := range plan.Server {
		server = append(server, s.SQL)
		if strings.Contains(s.SQL, "pgaadauth_create_principal_with_oid") && s.Args[0] == p.API.Name && s.Args[2] == "service" {
			created = true
		}
	}
	for _, s := range plan.Database {
		database = append(database, s.SQL)
	}
	if !created || !slices.Contains(server, `GRANT "report_reader" TO "workload-identities-api"`) ||
		!slices.Contains(database, `GRANT CONNECT ON DATABASE "sluice" TO "workload-identities-api"`) {
		t.Fatalf("the api is not made a report reader:\n%s\n%s", strings.Join(server, "\n"), strings.Join(database, "\n"))
	}
	if strings.Contains(strings.Join(server, "\n"), `GRANT "batch_writer" TO "workload-identities-api"`) {
		t.Fatal("the api may write")
	}
	// Without an api principal nothing names it.
	plan, err = Build(principals(), "sluice")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(plan.Server, plan.Database...) {
		if strings.Contains(s.SQL, "-api") || (len(s.Args) > 0 && s.Args[0] == "") {
			t.Fatalf("an absent api principal appears: %s %v", s.SQL, s.Args)
		}
	}
	p.API.Type = "group"
	if _, err := Build(p, "sluice"); err == nil {
		t.Fatal("an api principal that is not a managed identity was accepted")
	}
}
