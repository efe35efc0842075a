// Package config reads the Sluice stack configuration once into typed structs
// and validates it before the program declares a single resource.
//
// Every setting lives in the project namespace "sluice" and is declared, with
// its type, description and default, in the config section of Pulumi.yaml.
// Stack files under stacks/ only override sizing, protection, zones, region and
// private networking: security settings (TLS 1.2, local auth off, RBAC, soft
// delete, admin users off, ...) are not configurable at all.
//
// Load collects every problem it finds — missing keys, values of the wrong
// type, and impossible combinations such as Kafka on the Event Hubs Basic tier,
// PgBouncer on a Burstable PostgreSQL SKU, zones in a region without
// availability zones or overlapping CIDR ranges — and returns them together in
// one *Error, so a preview fails once with the whole list.
//
// The package also reads Pulumi.yaml and stacks/Pulumi.<stack>.yaml from disk
// (StackValues), which the offline plan and the tests use to run the program
// under mocks with exactly the values the Pulumi CLI would pass.
package config
