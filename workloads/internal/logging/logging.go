package logging

import (
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// LevelEnv is the variable holding the log level (debug, info, warn,
// error; default info).
const LevelEnv = deploy.EnvLogLevel

// Setup installs a JSON logger on stderr as slog's default and returns it.
func Setup(workload string) *slog.Logger {
	return SetupTo(os.Stderr, workload, os.Getenv(deploy.EnvLogLevel))
}

// SetupTo is Setup with an explicit writer and level name.
func SetupTo(w io.Writer, workload, level string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	l := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv})).With("workload", workload)
	slog.SetDefault(l)
	return l
}
