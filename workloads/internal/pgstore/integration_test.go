//go:build integration

package pgstore_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
)

// tokens hands out the local password as if it were an Entra ID token,
// counting how often it is asked.
type tokens struct {
	calls    atomic.Int64
	password string
}

func (t *tokens) Token(context.Context) (string, error) {
	t.calls.Add(1)
	return t.password, nil
}

// TestEntraAuthFetchesATokenPerConnection signs in the way Entra ID
// authentication does (the token as the password, no password configured)
// and checks each new server connection asks for a token.
func TestEntraAuthFetchesATokenPerConnection(t *testing.T) {
	ep := itest.Up(t, devservices.Postgres)
	u, err := url.Parse(ep.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	c := pgstore.Config{URL: u.String(), Auth: pgstore.AuthEntra, MaxConns: 3, ConnectTimeout: 5 * time.Second, AppName: "pgstore-test"}
	ts := &tokens{password: password}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := c.Open(ctx, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Hold three connections at once, so the pool must open three.
	var conns []interface{ Release() }
	for range 3 {
		pc, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var app string
		if err := pc.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&app); err != nil || app != "pgstore-test" {
			t.Errorf("application_name %q, err %v", app, err)
		}
		conns = append(conns, pc)
	}
	for _, pc := range conns {
		pc.Release()
	}
	if n := ts.calls.Load(); n != 3 {
		t.Errorf("%d tokens fetched for 3 connections", n)
	}
	if pool.Config().ConnConfig.DefaultQueryExecMode != pgx.QueryExecModeExec {
		t.Errorf("exec mode %v", pool.Config().ConnConfig.DefaultQueryExecMode)
	}

	// A wrong token fails the connection with PostgreSQL's own message.
	bad := &tokens{password: "expired-token"}
	if _, err := c.Open(ctx, bad); err == nil {
		t.Error("a wrong token connected")
	}
}
