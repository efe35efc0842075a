package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

// Authentication methods.
const (
	AuthPassword = "password"
	AuthEntra    = "entra"
)

// Query execution modes as POSTGRES_EXEC_MODE and pgx's
// default_query_exec_mode spell them.
var execModes = map[string]pgx.QueryExecMode{
	"cache_statement": pgx.QueryExecModeCacheStatement,
	"cache_describe":  pgx.QueryExecModeCacheDescribe,
	"describe_exec":   pgx.QueryExecModeDescribeExec,
	"exec":            pgx.QueryExecModeExec,
	"simple_protocol": pgx.QueryExecModeSimpleProtocol,
}

// DefaultExecMode is the query execution mode used unless configured
// otherwise: one round trip per query on the unnamed statement, which
// PgBouncer's transaction pooling accepts.
const DefaultExecMode = "exec"

// Config is the PostgreSQL part of a workload's configuration.
type Config struct {
	// URL is a complete connection string; when empty the fields below
	// build one. It may hold a password and is never logged.
	URL      string `json:"-"`
	Host     string
	Port     int
	Database string
	User     string
	Password string `json:"-"`
	SSLMode  string
	// Auth is AuthPassword or AuthEntra.
	Auth string
	// ExecMode is one of the keys of pgx's default_query_exec_mode; empty
	// keeps what URL says, or DefaultExecMode.
	ExecMode       string
	MaxConns       int
	ConnectTimeout time.Duration
	// AppName is sent as application_name, which PgBouncer passes on.
	AppName string
}

// FromEnv reads POSTGRES_URL or POSTGRES_HOST, POSTGRES_PORT,
// POSTGRES_DATABASE, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_SSLMODE, and
// POSTGRES_AUTH, POSTGRES_EXEC_MODE, POSTGRES_MAX_CONNS,
// POSTGRES_CONNECT_TIMEOUT. app names the workload (application_name).
func FromEnv(r *envconfig.Reader, app string) Config {
	return fromEnv(r, app, deploy.EnvPostgresURL, deploy.EnvPostgresPort)
}

// MigrationFromEnv is FromEnv for schema migrations: POSTGRES_MIGRATE_URL,
// when set, replaces POSTGRES_URL, and POSTGRES_MIGRATE_PORT replaces
// POSTGRES_PORT. Migrations hold a session-level advisory lock, so on Azure
// they must reach the server directly (port 5432), not through PgBouncer
// (port 6432).
func MigrationFromEnv(r *envconfig.Reader, app string) Config {
	urlKey, portKey := deploy.EnvPostgresURL, deploy.EnvPostgresPort
	if _, ok := lookup(r, deploy.EnvPostgresMigrateURL); ok {
		urlKey = deploy.EnvPostgresMigrateURL
	}
	if _, ok := lookup(r, deploy.EnvPostgresMigratePort); ok {
		portKey = deploy.EnvPostgresMigratePort
	}
	return fromEnv(r, app, urlKey, portKey)
}

// lookup tells whether a variable is set and not empty.
func lookup(r *envconfig.Reader, key string) (string, bool) {
	v := r.String(key, "")
	return v, v != ""
}

func fromEnv(r *envconfig.Reader, app, urlKey, portKey string) Config {
	c := Config{
		URL:      r.String(urlKey, ""),
		Host:     r.String(deploy.EnvPostgresHost, ""),
		Database: r.String(deploy.EnvPostgresDatabase, "sluice"),
		User:     r.String(deploy.EnvPostgresUser, ""),
		Password: r.String(deploy.EnvPostgresPassword, ""),
		SSLMode:  r.OneOf(deploy.EnvPostgresSSLMode, "require", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
		Auth:     r.OneOf(deploy.EnvPostgresAuth, AuthPassword, AuthPassword, AuthEntra),
		ExecMode: r.OneOf(deploy.EnvPostgresExecMode, "", "cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"),
		MaxConns: r.Int(deploy.EnvPostgresMaxConns, 4, 1, 200),
		ConnectTimeout: r.Duration(deploy.EnvPostgresConnectTimeout, 10*time.Second,
			500*time.Millisecond, 5*time.Minute),
		AppName: app,
	}
	c.Port = r.Int(portKey, 5432, 1, 65535)
	switch {
	case c.URL == "" && c.Host == "":
		r.Problem("%s or POSTGRES_HOST is required", urlKey)
	case c.URL != "" && c.Host != "":
		r.Problem("set only one of %s and POSTGRES_HOST", urlKey)
	case c.URL != "":
		// pgx redacts the password in its parse errors.
		if _, err := pgx.ParseConfig(c.URL); err != nil {
			r.Problem("%s is not a valid PostgreSQL connection string: %v", urlKey, err)
		}
	case c.User == "":
		r.Problem("POSTGRES_USER is required with POSTGRES_HOST")
	}
	if c.Auth == AuthEntra && c.Password != "" {
		r.Problem("POSTGRES_PASSWORD must not be set with POSTGRES_AUTH=entra (the Entra ID token is the password)")
	}
	return c
}

// connString is the connection string pgx parses.
func (c Config) connString() string {
	if c.URL != "" {
		return c.URL
	}
	kv := []string{
		"host=" + quote(c.Host),
		"port=" + strconv.Itoa(c.Port),
		"dbname=" + quote(c.Database),
		"user=" + quote(c.User),
		"sslmode=" + quote(c.SSLMode),
	}
	if c.Password != "" {
		kv = append(kv, "password="+quote(c.Password))
	}
	return strings.Join(kv, " ")
}

// quote quotes a keyword/value connection string value.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// ConnConfig returns the pgx configuration of one connection, with the
// execution mode and application name applied. Entra authentication is
// added by the Open functions, not here.
func (c Config) ConnConfig() (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(c.connString())
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("parse postgres connection string: %w", err)
	}
	mode := c.ExecMode
	if mode == "" && !strings.Contains(c.URL, "default_query_exec_mode") {
		mode = DefaultExecMode
	}
	if mode != "" {
		m, ok := execModes[mode]
		if !ok {
			return nil, fmt.Errorf("unknown query exec mode %q", mode)
		}
		cc.DefaultQueryExecMode = m
	}
	if c.ConnectTimeout > 0 {
		cc.ConnectTimeout = c.ConnectTimeout
	}
	if c.AppName != "" {
		if cc.RuntimeParams == nil {
			cc.RuntimeParams = map[string]string{}
		}
		if _, set := cc.RuntimeParams["application_name"]; !set {
			cc.RuntimeParams["application_name"] = c.AppName
		}
	}
	return cc, nil
}

// Redacted describes the target without credentials, for logs and errors.
func (c Config) Redacted() string {
	host, port, db, user := c.Host, c.Port, c.Database, c.User
	if c.URL != "" {
		if cc, err := pgx.ParseConfig(c.URL); err == nil {
			host, port, db, user = cc.Host, int(cc.Port), cc.Database, cc.User
		} else {
			return "postgres (unparsable connection string)"
		}
	}
	return fmt.Sprintf("postgres %s@%s/%s", user, net.JoinHostPort(host, strconv.Itoa(port)), db)
}

// tokens returns the token source for Entra authentication, nil otherwise.
func (c Config) tokens(ts TokenSource) (TokenSource, error) {
	if c.Auth != AuthEntra {
		return nil, nil
	}
	if ts != nil {
		return ts, nil
	}
	return DefaultEntraTokens()
}

// PoolConfig returns the pool configuration. ts supplies Entra ID tokens
// when Auth is AuthEntra; nil means azidentity's default credential.
func (c Config) PoolConfig(ts TokenSource) (*pgxpool.Config, error) {
	cc, err := c.ConnConfig()
	if err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("default pool config: %w", err)
	}
	pc.ConnConfig = cc
	pc.MaxConns = int32(c.MaxConns)
	pc.MinConns = 0
	pc.MaxConnLifetime = 30 * time.Minute
	pc.MaxConnIdleTime = 5 * time.Minute
	tokens, err := c.tokens(ts)
	if err != nil {
		return nil, err
	}
	if tokens != nil {
		pc.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
			return setTokenPassword(ctx, tokens, cc)
		}
	}
	return pc, nil
}

func setTokenPassword(ctx context.Context, ts TokenSource, cc *pgx.ConnConfig) error {
	tok, err := ts.Token(ctx)
	if err != nil {
		return fmt.Errorf("entra id token for postgres: %w", err)
	}
	cc.Password = tok
	return nil
}

// Open creates the pool and checks that the server answers.
func (c Config) Open(ctx context.Context, ts TokenSource) (*pgxpool.Pool, error) {
	pc, err := c.PoolConfig(ts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres pool for %s: %w", c.Redacted(), err)
	}
	pctx, cancel := context.WithTimeout(ctx, c.ConnectTimeout+5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", c.Redacted(), err)
	}
	return pool, nil
}

// OpenDB returns a database/sql handle over pgx (for libraries such as the
// migration tool), with Entra tokens fetched per connection as in Open.
func (c Config) OpenDB(ctx context.Context, ts TokenSource) (*sql.DB, error) {
	cc, err := c.ConnConfig()
	if err != nil {
		return nil, err
	}
	tokens, err := c.tokens(ts)
	if err != nil {
		return nil, err
	}
	var opts []stdlib.OptionOpenDB
	if tokens != nil {
		opts = append(opts, stdlib.OptionBeforeConnect(func(ctx context.Context, cc *pgx.ConnConfig) error {
			return setTokenPassword(ctx, tokens, cc)
		}))
	}
	db := stdlib.OpenDB(*cc, opts...)
	db.SetMaxOpenConns(c.MaxConns)
	db.SetConnMaxLifetime(30 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, c.ConnectTimeout+5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s: %w", c.Redacted(), err)
	}
	return db, nil
}
