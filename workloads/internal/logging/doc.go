// Package logging sets up the JSON slog logger every workload uses, with the
// level from LOG_LEVEL and the workload's name on every line.
package logging
