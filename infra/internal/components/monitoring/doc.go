// Package monitoring declares the Log Analytics workspace every diagnostic
// setting of the platform sends its logs and metrics to.
package monitoring
