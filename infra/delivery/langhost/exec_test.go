package langhost

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestExecRefusesCommandsThatRunNoProgram(t *testing.T) {
	_, err := Exec(context.Background(), func(*pulumi.Context) error { return nil }, nil, Command{CLI: "pulumi", Args: []string{"stack", "output"}})
	if err == nil || !strings.Contains(err.Error(), "runs no program operation") {
		t.Fatalf("Exec(stack output) = %v, want a refusal", err)
	}
}

// Without a terminal, SIGTERM and SIGINT sent to the host reach the CLI
// once, and Exec returns the CLI's exit code after it stopped.
func TestExecPassesSignalsOn(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		dir := t.TempDir()
		cli := filepath.Join(dir, "pulumi")
		script := "#!/bin/sh\ntrap 'echo caught >> \"" + dir + "/log\"; exit 42' TERM INT\necho ready > \"" + dir + "/ready\"\nsleep 30 >/dev/null 2>&1 &\nwait\n"
		if err := os.WriteFile(cli, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		done := make(chan int, 1)
		go func() {
			code, err := Exec(context.Background(), func(*pulumi.Context) error { return nil }, nil,
				Command{CLI: cli, Args: []string{"up"}, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard})
			if err != nil {
				t.Error(err)
			}
			done <- code
		}()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the CLI never started")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case code := <-done:
			if code != 42 {
				t.Fatalf("%v: exit %d, want the CLI's 42", sig, code)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v never reached the CLI", sig)
		}
		if log, _ := os.ReadFile(filepath.Join(dir, "log")); strings.Count(string(log), "caught") != 1 {
			t.Fatalf("%v: the CLI saw %q", sig, log)
		}
	}
}
