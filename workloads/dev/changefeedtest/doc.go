// Package changefeedtest holds the change-feed contract suite (RunSuite)
// that every Source must pass, and in-memory stand-ins for tests: a fake
// Cosmos DB change feed (FakeCosmos), checkpoints and leases.
package changefeedtest
