package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvOutput(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"env"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	want := `export KAFKA_BROKERS=127.0.0.1:19092
export CASSANDRA_HOSTS=127.0.0.1
export CASSANDRA_PORT=19042
export CASSANDRA_USERNAME=cassandra
export CASSANDRA_PASSWORD=cassandra
export POSTGRES_URL='postgres://sluice:sluice@127.0.0.1:15432/sluice?sslmode=disable'
export REDIS_ADDR=127.0.0.1:16379
export REDIS_DB=0
`
	if out.String() != want {
		t.Fatalf("env printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestShellQuote(t *testing.T) {
	cases := map[string]string{
		"127.0.0.1:19092": "127.0.0.1:19092",
		"a b":             "'a b'",
		"it's":            `'it'\''s'`,
		"":                "''",
		"x?y=1&z":         "'x?y=1&z'",
	}
	for in, want := range cases {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("SLUICE_HOME", t.TempDir())
	for _, args := range [][]string{
		nil,
		{"launch"},
		{"up", "mysql"},
		{"up", "--fast"},
		{"down", "--purge", "kafka"},
		{"restart"},
		{"status", "kafka"},
		{"logs"},
		{"logs", "kafka", "redis"},
		{"logs", "kafka", "-n", "-1"},
		{"env", "x"},
		{"spark-image", "extra"},
		{"spark-image", "--fast"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if !errors.Is(err, errUsage) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
}

func TestLogsCommand(t *testing.T) {
	home := t.TempDir()
	t.Setenv("SLUICE_HOME", home)
	logDir := filepath.Join(home, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logDir, "kafka.log"), []byte("one\ntwo\nthree\nfour\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"logs", "kafka", "-n", "2"}, {"logs", "-n", "2", "kafka"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("run(%q): %v", args, err)
		}
		if out.String() != "three\nfour\n" {
			t.Errorf("run(%q) printed %q", args, out.String())
		}
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"logs", "redis"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "redis") {
		t.Errorf("logs of an engine without a log: %v", err)
	}
}

func TestStatusCommandWithNothingRunning(t *testing.T) {
	t.Setenv("SLUICE_HOME", t.TempDir())
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"status"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "ENGINE") {
		t.Fatalf("status printed:\n%s", out.String())
	}
	for _, l := range lines[1:] {
		if fields := strings.Fields(l); len(fields) < 3 || fields[1] != "stopped" || fields[2] != "-" {
			t.Errorf("line %q, want a stopped engine", l)
		}
	}
}
