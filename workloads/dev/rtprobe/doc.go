// Package rtprobe measures how long critical events take from being
// produced to being visible through the API: it polls each site's
// GET /v1/sites/{site}/critical and records, for every expected event, the
// first poll whose answer holds its id. The benchmark and the demo use it.
package rtprobe
