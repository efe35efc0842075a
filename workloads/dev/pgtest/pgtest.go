package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/pgmigrate"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
)

// Database is a test's own database.
type Database struct {
	Name   string
	URL    string
	Config pgstore.Config
	Pool   *pgxpool.Pool
}

// New creates an empty database for the test (without the schema) and
// drops it at cleanup.
func New(t testing.TB, prefix string) *Database {
	t.Helper()
	ep := itest.Up(t, devservices.Postgres)
	name := strings.ToLower(itest.Name(prefix))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, ep.PostgresURL)
	if err != nil {
		t.Fatalf("connect to local postgres: %v", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, ep.PostgresURL)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		// WITH (FORCE) would also need to end autovacuum workers, which a
		// role without pg_signal_backend may not; plain DROP DATABASE asks
		// them to leave. Sessions of this role (a killed child's backend
		// finishing a statement) are ended first.
		for attempt := 0; attempt < 60; attempt++ {
			if _, err = c.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()`, name); err != nil {
				break
			}
			if _, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err == nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Errorf("drop database %s: %v", name, err)
	})
	u, err := url.Parse(ep.PostgresURL)
	if err != nil {
		t.Fatalf("parse local postgres url: %v", err)
	}
	u.Path = "/" + name
	d := &Database{Name: name, URL: u.String()}
	d.Config = pgstore.Config{URL: d.URL, MaxConns: 8, ConnectTimeout: 10 * time.Second, AppName: "test"}
	pool, err := d.Config.Open(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	d.Pool = pool
	return d
}

// Migrated is New plus the embedded schema.
func Migrated(t testing.TB, prefix string) *Database {
	t.Helper()
	d := New(t, prefix)
	d.Migrate(t)
	return d
}

// Migrate applies the embedded migrations to the database.
func (d *Database) Migrate(t testing.TB) pgmigrate.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := d.Config.OpenDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := pgmigrate.Up(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Env returns the environment a workload binary needs to reach this
// database (and the other local engines).
func (d *Database) Env() []string {
	var env []string
	for _, kv := range devservices.LocalEndpoints().Env() {
		if kv[0] == "POSTGRES_URL" {
			kv[1] = d.URL
		}
		env = append(env, kv[0]+"="+kv[1])
	}
	return env
}

// Count runs a count query and returns its result.
func (d *Database) Count(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// URLFor returns the database's URL with another user and password.
func (d *Database) URLFor(user, password string) string {
	u, err := url.Parse(d.URL)
	if err != nil {
		panic(fmt.Sprintf("pgtest: own url %q does not parse: %v", d.URL, err))
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}
