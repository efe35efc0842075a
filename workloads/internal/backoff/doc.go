// Package backoff retries an operation with capped exponential backoff and
// full jitter, honouring a delay the server asks for (Cosmos DB's
// RetryAfterMs) when the caller's classifier reports one.
package backoff
