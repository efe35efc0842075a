// Package eventhubs declares the Event Hubs namespace the workloads reach
// through its Kafka endpoint: tier, capacity, auto-inflate and zone
// redundancy from config, TLS 1.2 minimum, local (SAS) authentication off
// because every workload authenticates with Entra ID (OAUTHBEARER), the hubs
// "events" and "events.dlq" and one consumer group per Kafka reader.
//
// Producers outside the cluster (sluice:eventHubsProducers: service
// principals, managed identities, groups) get "Azure Event Hubs Data Sender"
// on the events hub only, never on the namespace or the DLQ; they connect
// with OAUTHBEARER and an Entra ID token like the workloads do.
package eventhubs
