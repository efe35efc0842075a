// Package pgstore builds PostgreSQL connection pools for the workloads from
// the environment, in a way that works both against a local PostgreSQL and
// against Azure Database for PostgreSQL Flexible Server behind its built-in
// PgBouncer.
//
// # Configuration
//
// Either POSTGRES_URL (a libpq URL or keyword/value string) or
// POSTGRES_HOST with POSTGRES_PORT (5432; 6432 is PgBouncer on Azure),
// POSTGRES_DATABASE (sluice), POSTGRES_USER, POSTGRES_PASSWORD and
// POSTGRES_SSLMODE (require). POSTGRES_AUTH selects "password" (default) or
// "entra": then every new connection fetches a Microsoft Entra ID token for
// https://ossrdbms-aad.database.windows.net/.default through azidentity's
// default credential chain (workload identity on AKS) and sends it as the
// password. azidentity caches the token and renews it before it expires, and
// the token is asked for in pgx's BeforeConnect hook, so a pool that lives
// longer than one token keeps connecting. POSTGRES_MAX_CONNS bounds the pool.
//
// Migrations read POSTGRES_MIGRATE_URL first (see [MigrationFromEnv]): they
// take a session-level advisory lock, which needs a direct connection (port
// 5432 on Azure), not PgBouncer's transaction pooling.
//
// # PgBouncer in transaction pooling mode
//
// In transaction pooling a client's consecutive transactions may run on
// different server connections, so nothing may depend on session state
// outside a transaction. The rules this package and its users follow:
//
//   - Query execution mode "exec" (pgx.QueryExecModeExec) by default: the
//     extended protocol with the unnamed statement, parsed, bound and
//     executed in one round trip, so no named prepared statement outlives a
//     message exchange. pgx's documentation names exec and simple_protocol
//     as the modes for PgBouncer; its default, cache_statement, prepares
//     named statements per connection and breaks there. POSTGRES_EXEC_MODE
//     (or default_query_exec_mode in POSTGRES_URL) overrides it.
//   - COPY works: pgx describes the target with an unnamed statement and
//     streams the rows, both inside the caller's transaction.
//   - No SET, LISTEN, session advisory locks or WITH HOLD cursors: settings
//     use SET LOCAL, locks use pg_advisory_xact_lock, temporary tables are
//     created inside a transaction with ON COMMIT DROP.
//   - Only startup parameters PgBouncer tracks are sent (application_name).
package pgstore
