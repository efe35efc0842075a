// Package cqlsession opens gocql sessions for Apache Cassandra and for Cosmos
// DB for Apache Cassandra with the settings each needs, and classifies CQL
// errors into transient and permanent ones for retry loops.
//
// Against Cosmos DB (host *.cassandra.cosmos.azure.com or CASSANDRA_COSMOS=true)
// the session uses port 10350, TLS 1.2+, protocol 4 and no initial host
// lookup. Overloaded errors (Cosmos' 429) are transient and carry the server's
// RetryAfterMs as the delay to honour.
//
// The password is read from CASSANDRA_PASSWORD_FILE (the Key Vault secret
// mounted by the Secrets Store CSI driver) on every new connection, so a
// rotated key is picked up without a restart; CASSANDRA_PASSWORD is the local
// alternative. Connections a session already holds stay authenticated with
// the old key, so long-running workloads open a Rotating session instead: it
// reads the file every CASSANDRA_PASSWORD_POLL (5 s), and when the content
// changes opens a new session with the new key, swaps it in for new
// statements and closes the old one after CASSANDRA_ROTATION_DRAIN (30 s).
// infra/delivery/scripts/rotate-cosmos-key.sh rotates the Cosmos DB key this way
// with no restart.
package cqlsession
