// Package eventhubs declares the Event Hubs namespace the workloads reach
// through its Kafka endpoint: tier, capacity, auto-inflate and zone
// redundancy from config, TLS 1.2 minimum, local (SAS) authentication off
// because every workload authenticates with Entra ID (OAUTHBEARER), the hubs
// "events" and "events.dlq" and one consumer group per Kafka reader.
package eventhubs
