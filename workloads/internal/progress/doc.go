// Package progress reports the progress of long work: a progress bar when
// stderr is a terminal, a structured log line every few seconds otherwise
// (CI, Kubernetes), so the same code reads well in both places.
package progress
