package contract

import "time"

// Stored is an event as the store holds it: the event with the time it was
// ingested. Readers of the event tables (the api, the change feed) return
// it, and the Redis cache keeps it; it is the one shape of a stored event
// every workload shares.
type Stored struct {
	Event
	IngestedAt time.Time
}
