package pgmigrate

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Roles the migrations create.
const (
	ReaderRole  = "report_reader"
	PowerBIRole = "powerbi_reader"
	WriterRole  = "batch_writer"
)

// ReportSchema is the schema of the reporting views.
const ReportSchema = "report"

// Migrations returns the embedded migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		// The directory is embedded at build time; Sub fails only on a
		// malformed name, which is a constant here.
		panic("pgmigrate: " + err.Error())
	}
	return sub
}

// Result says what Up did.
type Result struct {
	// Applied names the files applied by this call, in order.
	Applied []string
	// Version is the schema version afterwards.
	Version int64
}

// provider builds the goose provider with the session locker.
func provider(db *sql.DB, log *slog.Logger) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300), lock.WithUnlockTimeout(1, 60))
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(),
		goose.WithSessionLocker(locker), goose.WithSlog(log), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("migration provider: %w", err)
	}
	return p, nil
}

// Up applies every pending migration. It waits while another migrator holds
// the lock, so concurrent callers all succeed and each file is applied once.
// db must be a direct connection (see the package documentation).
func Up(ctx context.Context, db *sql.DB, log *slog.Logger) (Result, error) {
	p, err := provider(db, log)
	if err != nil {
		return Result{}, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("apply postgres migrations: %w", err)
	}
	var res Result
	for _, r := range results {
		res.Applied = append(res.Applied, r.Source.Path)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return res, fmt.Errorf("read postgres schema version: %w", err)
	}
	res.Version = v
	return res, nil
}

// Latest is the version of the newest embedded migration.
func Latest() (int64, error) {
	entries, err := fs.ReadDir(Migrations(), ".")
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	var latest int64
	for _, e := range entries {
		v, err := goose.NumericComponent(e.Name())
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// SetPassword gives a login role a password (for local use of the BI login:
// on Azure the BI tool signs in with Entra ID instead). The password never
// appears in the migration files.
func SetPassword(ctx context.Context, db *sql.DB, role, password string) error {
	if password == "" {
		return fmt.Errorf("set password of %s: empty password", role)
	}
	stmt := fmt.Sprintf("ALTER ROLE %s PASSWORD %s", quoteIdent(role), quoteLiteral(password))
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("set password of %s: %w", role, err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a string constant; standard_conforming_strings is on
// in every supported PostgreSQL, so backslashes are literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
