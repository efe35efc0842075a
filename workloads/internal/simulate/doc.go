// Package simulate models a fleet of devices across sites and produces their
// events to Kafka at a target rate.
//
// The fleet is a pure function of (sites, devices): the same numbers always
// give the same site and device ids, kinds and models, so reference data
// seeded elsewhere (PostgreSQL sites/devices, Parquet device models) matches
// what the simulator emits. Readings follow a per-kind plausible range; a
// configurable share is raised to warning or critical, and a configurable
// share of records is deliberately invalid (each kind of invalidity the
// contract rejects) for exercising the dead-letter path.
package simulate
