// Package pipelinetest runs Sluice's real-time path end to end for
// integration tests: it builds the ingest, changefeed and api binaries,
// starts them as child processes against the local engines with their own
// topic, consumer group and change-feed name, produces events through
// Kafka, and drives a headless Chromium over the DevTools protocol to check
// the live page.
package pipelinetest
