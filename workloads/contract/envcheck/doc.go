// Package envcheck is the one deliberate bridge from the infrastructure to
// the workloads' own configuration loaders: Load feeds an environment, as
// the Pulumi program sets it on a container, to the workload's
// ConfigFromEnv (ingest, changefeed, api, enrich; migrate's with its
// arguments) and fails when the workload would refuse it, or when the
// environment sets a variable the workload never reads (a variable renamed
// on either side shows up here: the old name is read by nobody).
//
// Loading reads no file and opens no connection: CASSANDRA_PASSWORD_FILE
// is only a path at load time (the CSI volume provides the file when the
// pod runs), and Entra ID tokens are fetched per connection.
package envcheck
