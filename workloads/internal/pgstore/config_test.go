package pgstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

func read(t *testing.T, env map[string]string, migrate bool) (Config, error) {
	t.Helper()
	r := envconfig.NewFrom(envconfig.FromMap(env))
	var c Config
	if migrate {
		c = MigrationFromEnv(r, "test")
	} else {
		c = FromEnv(r, "test")
	}
	return c, r.Err()
}

func TestFromEnvURLDefaultsToExecMode(t *testing.T) {
	c, err := read(t, map[string]string{"POSTGRES_URL": "postgres://u:secret@127.0.0.1:15432/db?sslmode=disable"}, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.ConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cc.DefaultQueryExecMode != pgx.QueryExecModeExec {
		t.Errorf("exec mode = %v, want exec", cc.DefaultQueryExecMode)
	}
	if cc.RuntimeParams["application_name"] != "test" {
		t.Errorf("application_name = %q", cc.RuntimeParams["application_name"])
	}
	if got := c.Redacted(); strings.Contains(got, "secret") || got != "postgres u@127.0.0.1:15432/db" {
		t.Errorf("Redacted() = %q", got)
	}
}

func TestExecModeFromURLIsKept(t *testing.T) {
	c, err := read(t, map[string]string{"POSTGRES_URL": "postgres://u@h/db?default_query_exec_mode=simple_protocol"}, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.ConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cc.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol {
		t.Errorf("exec mode = %v, want simple protocol", cc.DefaultQueryExecMode)
	}
	c.ExecMode = "cache_describe"
	cc, err = c.ConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cc.DefaultQueryExecMode != pgx.QueryExecModeCacheDescribe {
		t.Errorf("POSTGRES_EXEC_MODE did not win: %v", cc.DefaultQueryExecMode)
	}
}

func TestFromEnvHostFields(t *testing.T) {
	c, err := read(t, map[string]string{
		"POSTGRES_HOST": "pg.example.postgres.database.azure.com", "POSTGRES_PORT": "6432",
		"POSTGRES_USER": "id-enrich", "POSTGRES_AUTH": "entra", "POSTGRES_DATABASE": "sluice",
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.ConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cc.Host != "pg.example.postgres.database.azure.com" || cc.Port != 6432 || cc.User != "id-enrich" || cc.Database != "sluice" {
		t.Errorf("parsed %s:%d %s/%s", cc.Host, cc.Port, cc.User, cc.Database)
	}
	if cc.TLSConfig == nil {
		t.Error("sslmode defaults to require, but TLS is off")
	}
}

func TestQuotingSurvivesOddPasswords(t *testing.T) {
	c := Config{Host: "h", Port: 5432, Database: "d b", User: "u", Password: `p'a\ss w`, SSLMode: "disable"}
	cc, err := c.ConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cc.Password != `p'a\ss w` || cc.Database != "d b" {
		t.Errorf("password %q database %q", cc.Password, cc.Database)
	}
}

func TestMigrationFromEnvPrefersDirectURLAndPort(t *testing.T) {
	c, err := read(t, map[string]string{
		"POSTGRES_URL":         "postgres://u@bouncer:6432/db",
		"POSTGRES_MIGRATE_URL": "postgres://u@direct:5432/db",
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.ConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cc.Host != "direct" || cc.Port != 5432 {
		t.Errorf("migration target %s:%d, want direct:5432", cc.Host, cc.Port)
	}
	c, err = read(t, map[string]string{
		"POSTGRES_HOST": "pg", "POSTGRES_PORT": "6432", "POSTGRES_MIGRATE_PORT": "5432", "POSTGRES_USER": "u",
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 5432 {
		t.Errorf("migration port %d, want 5432", c.Port)
	}
	c, err = read(t, map[string]string{"POSTGRES_HOST": "pg", "POSTGRES_PORT": "6432", "POSTGRES_USER": "u"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 6432 {
		t.Errorf("workload port %d, want 6432", c.Port)
	}
}

func TestFromEnvReportsEveryProblem(t *testing.T) {
	_, err := read(t, map[string]string{
		"POSTGRES_AUTH": "kerberos", "POSTGRES_EXEC_MODE": "fast", "POSTGRES_MAX_CONNS": "0",
	}, false)
	if !errors.Is(err, envconfig.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"POSTGRES_URL or POSTGRES_HOST is required", "POSTGRES_AUTH", "POSTGRES_EXEC_MODE", "POSTGRES_MAX_CONNS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	_, err = read(t, map[string]string{"POSTGRES_HOST": "h", "POSTGRES_USER": "u", "POSTGRES_AUTH": "entra", "POSTGRES_PASSWORD": "x"}, false)
	if err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD must not be set") {
		t.Errorf("entra with a password: err = %v", err)
	}
	_, err = read(t, map[string]string{"POSTGRES_URL": "postgres://u:hunter2@h:notaport/db"}, false)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad URL: err = %v (must be reported without the password)", err)
	}
}

type countingTokens struct {
	n   int
	err error
}

func (c *countingTokens) Token(context.Context) (string, error) {
	c.n++
	if c.err != nil {
		return "", c.err
	}
	return "token-" + strings.Repeat("x", c.n), nil
}

func TestEntraTokenIsFetchedPerConnection(t *testing.T) {
	c := Config{Host: "h", Port: 6432, Database: "d", User: "u", SSLMode: "require", Auth: AuthEntra, MaxConns: 2}
	ts := &countingTokens{}
	pc, err := c.PoolConfig(ts)
	if err != nil {
		t.Fatal(err)
	}
	if pc.BeforeConnect == nil {
		t.Fatal("no BeforeConnect hook with entra auth")
	}
	for i := 1; i <= 2; i++ {
		cc := pc.ConnConfig.Copy()
		if err := pc.BeforeConnect(context.Background(), cc); err != nil {
			t.Fatal(err)
		}
		if want := "token-" + strings.Repeat("x", i); cc.Password != want {
			t.Errorf("connection %d password %q, want %q", i, cc.Password, want)
		}
	}
	ts.err = errors.New("no identity")
	if err := pc.BeforeConnect(context.Background(), pc.ConnConfig.Copy()); err == nil || !strings.Contains(err.Error(), "no identity") {
		t.Errorf("token failure not reported: %v", err)
	}

	c.Auth = AuthPassword
	pc, err = c.PoolConfig(ts)
	if err != nil {
		t.Fatal(err)
	}
	if pc.BeforeConnect != nil {
		t.Error("password auth must not install a token hook")
	}
}
