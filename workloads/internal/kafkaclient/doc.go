// Package kafkaclient builds the sarama configuration every Sluice Kafka
// client uses. It is the Event Hubs-safe one from DESIGN.md and
// AZURE-NOTES.md whether the broker is Event Hubs or the local Apache Kafka,
// so local tests exercise the production client settings: protocol 1.0,
// records ≤ 1,000,000 bytes, a 30 s producer timeout, metadata refreshed
// before Azure's 240 s idle cut-off, 30 s sessions with 3 s heartbeats.
//
// Three auth modes: none (local), SASL PLAIN with the "$ConnectionString"
// user, and OAUTHBEARER with an Entra ID token from azidentity.
package kafkaclient
