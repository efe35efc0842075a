// Package contract is the one deliberate shared contract between the workloads
// and the infrastructure program: the v1 event type with its validation, and the
// Cassandra keyspace and tables.
//
// The schema is defined once, here, as data. The local migrator turns it into
// CQL (Table.CreateCQL) and the Pulumi program turns the same values into Cosmos
// DB for Apache Cassandra keyspace and table resources, so the two can never
// drift apart. Nothing in this package does I/O.
package contract
