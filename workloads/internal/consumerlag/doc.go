// Package consumerlag measures how far a Kafka consumer group is behind on
// a topic: for every partition, the newest offset minus the group's
// committed offset (from the oldest offset when the group has committed
// nothing there, as the workloads start from the oldest record), summed.
//
// The measurement uses the group's own client settings (on Event Hubs:
// OAUTHBEARER with the workload's Entra ID identity, Kafka protocol 1.0), so
// it works where no other reader has credentials. ingest serves it at /lag
// as JSON ({"lag": N, ...}), which KEDA's metrics-api trigger reads to scale
// ingest: KEDA's own kafka scaler cannot authenticate to an Event Hubs
// namespace whose local (SAS) authentication is disabled. Measurements are
// cached briefly so several readers do not multiply the broker requests.
package consumerlag
