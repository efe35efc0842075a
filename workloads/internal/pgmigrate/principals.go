package pgmigrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Principal is an Entra ID principal that gets a PostgreSQL role; the type
// lives in the deployment contract, which the Pulumi program fills too.
type Principal = deploy.Principal

// Principals are the roles the principals step creates on Azure.
type Principals struct {
	// Migrate owns the schema: it applies the migrations (DDL).
	Migrate Principal
	// Enrich is the batch job's runtime identity: member of WriterRole
	// (DML on the tables it writes, read on the reference tables).
	Enrich Principal
	// API is the api's identity, granted ReaderRole for its report page;
	// its zero value (no name) means the api reads no reports.
	API Principal
	// ReportReaders are granted ReaderRole (the report views only).
	ReportReaders []Principal
}

// readers are the principals granted ReaderRole: the api's and the
// configured report readers.
func (p Principals) readers() []Principal {
	if p.API.Name == "" {
		return p.ReportReaders
	}
	return append([]Principal{p.API}, p.ReportReaders...)
}

// Statement is one SQL statement and its bind arguments.
type Statement struct {
	SQL  string
	Args []any
}

// Plan is what the principals step runs: Server statements in the
// "postgres" database (where pgaadauth_create_principal_with_oid lives and
// roles, which belong to the cluster, are made), then Database statements
// in the application database.
type Plan struct {
	Server   []Statement
	Database []Statement
}

// ParseReportReaders reads the JSON list of report readers
// (deploy.EnvPostgresReportReaders); empty text is no reader.
func ParseReportReaders(text string) ([]Principal, error) { return deploy.ParseReportReaders(text) }

// groupRoles are the NOLOGIN roles the migrations grant privileges to. The
// principals step makes them (an Entra administrator may create roles, the
// migrate identity may not) and the migrations only create them when they
// are missing (locally).
var groupRoles = []string{ReaderRole, WriterRole}

// Build plans the principals step for database (the application database).
// Every name is validated, identifiers are quoted and values are bind
// arguments, so no input can change the statements' meaning. Running the
// plan again changes nothing.
func Build(p Principals, database string) (Plan, error) {
	all := append([]Principal{p.Migrate, p.Enrich}, p.readers()...)
	seen := map[string]bool{}
	for _, pr := range all {
		if err := pr.Validate(); err != nil {
			return Plan{}, err
		}
		if seen[pr.Name] {
			return Plan{}, fmt.Errorf("principal %s is named twice", pr.Name)
		}
		seen[pr.Name] = true
	}
	if p.Migrate.Type != "service" || p.Enrich.Type != "service" || (p.API.Name != "" && p.API.Type != "service") {
		return Plan{}, fmt.Errorf("the migrate, enrich and api principals are managed identities (type service)")
	}
	if database == "" || database == "postgres" {
		return Plan{}, fmt.Errorf("application database %q: want the workloads' database", database)
	}
	var plan Plan
	for _, pr := range all {
		// The function fails for an existing role; the filter skips it.
		plan.Server = append(plan.Server, Statement{
			SQL: "SELECT pgaadauth_create_principal_with_oid($1, $2, $3, false, false) " +
				"WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1)",
			Args: []any{pr.Name, strings.ToLower(pr.ObjectID), pr.Type},
		})
	}
	for _, role := range append(groupRoles, PowerBIRole) {
		login := "NOLOGIN"
		if role == PowerBIRole {
			login = "LOGIN"
		}
		// Constant names only: a DO block takes no bind arguments.
		plan.Server = append(plan.Server, Statement{SQL: fmt.Sprintf(
			"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s) THEN CREATE ROLE %s %s; END IF; END $$",
			quoteLiteral(role), quoteIdent(role), login)})
	}
	member := func(role, of string) Statement {
		return Statement{SQL: "GRANT " + quoteIdent(of) + " TO " + quoteIdent(role)}
	}
	plan.Server = append(plan.Server, member(PowerBIRole, ReaderRole), member(p.Enrich.Name, WriterRole))
	for _, r := range p.readers() {
		plan.Server = append(plan.Server, member(r.Name, ReaderRole))
	}
	db := quoteIdent(database)
	migrate := quoteIdent(p.Migrate.Name)
	plan.Database = append(plan.Database,
		// migrate creates schema report and the tables in public.
		Statement{SQL: "GRANT CONNECT, CREATE, TEMPORARY ON DATABASE " + db + " TO " + migrate},
		Statement{SQL: "GRANT USAGE, CREATE ON SCHEMA public TO " + migrate},
		Statement{SQL: "GRANT CONNECT ON DATABASE " + db + " TO " + quoteIdent(p.Enrich.Name)},
	)
	for _, r := range p.readers() {
		plan.Database = append(plan.Database, Statement{SQL: "GRANT CONNECT ON DATABASE " + db + " TO " + quoteIdent(r.Name)})
	}
	return plan, nil
}

// Run executes statements in order on db.
func Run(ctx context.Context, db *sql.DB, statements []Statement) error {
	for _, s := range statements {
		if _, err := db.ExecContext(ctx, s.SQL, s.Args...); err != nil {
			return fmt.Errorf("postgres principals: %s: %w", firstWords(s.SQL), err)
		}
	}
	return nil
}

func firstWords(sql string) string {
	if len(sql) > 60 {
		return sql[:60] + "…"
	}
	return sql
}
