// Package envfuzz fuzzes the workloads' config loaders (the ConfigFromEnv
// functions), for their tests only: product code never imports it.
//
// A fuzz input is an environment, one KEY=VALUE a line (Encode, Decode).
// Whatever it holds, a loader must keep one contract (Check): it does not
// panic; it loads the same environment the same way twice; when it fails,
// its error and every problem it recorded name a variable it read, so an
// operator knows what to fix; when it succeeds, it recorded no problem and
// the config is valid by the caller's check of the documented bounds and
// by the checks of the shared parts here (Cassandra, Kafka, PostgreSQL,
// Redis), which build the clients' own configurations from it.
package envfuzz
