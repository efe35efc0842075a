// Package pgtest gives integration tests their own PostgreSQL database on
// the local engine: created fresh, migrated with the embedded schema, and
// dropped when the test ends, so tests that count rows or read the batch
// watermark never see each other's data. It fails the test when PostgreSQL
// is not reachable.
package pgtest
