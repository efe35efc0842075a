// Package itest holds helpers for integration tests against the real local
// engines: it brings the engines up through devservices (idempotently, so a
// test run that already has them pays only a health check), and creates
// uniquely named topics and sessions so tests do not see each other's data.
//
// A missing engine fails the test; it is never skipped.
package itest
