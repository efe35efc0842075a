package sparklaunch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command launches the driver as a child process: Argv with the run's
// [Args] appended, in this process's environment plus Env.
type Command struct {
	Argv []string
	Env  []string
	// Output receives the driver's output (stdout and stderr); the tail
	// of it is kept for the error of a failed run.
	Output io.Writer
	// Grace is how long a cancelled driver gets after SIGTERM before it is
	// killed; 10 s when zero.
	Grace time.Duration
}

var _ Launcher = (*Command)(nil)

// ParseCommand reads ENRICH_SPARK_COMMAND's value: a JSON array of strings,
// the program first.
func ParseCommand(v string) ([]string, error) {
	var argv []string
	if err := json.Unmarshal([]byte(v), &argv); err != nil {
		return nil, fmt.Errorf("not a JSON array of strings: %w", err)
	}
	if len(argv) == 0 || strings.TrimSpace(argv[0]) == "" {
		return nil, errors.New("the array is empty: it needs the program to run first")
	}
	return argv, nil
}

// Launch runs the driver and waits for it. The driver runs in its own
// process group, which is SIGTERMed (then SIGKILLed after Grace) when ctx
// ends, and it is killed should this process die first.
func (c *Command) Launch(ctx context.Context, r Run) error {
	if len(c.Argv) == 0 {
		return errors.New("spark command: no program")
	}
	args := append(append([]string{}, c.Argv[1:]...), Args(r)...)
	cmd := exec.Command(c.Argv[0], args...)
	cmd.Env = append(os.Environ(), c.Env...)
	tail := &tailBuffer{max: 16 << 10}
	var out io.Writer = tail
	if c.Output != nil {
		out = io.MultiWriter(c.Output, tail)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start spark driver %s: %w", c.Argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	grace := c.Grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(grace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			err = <-done
		}
		return fmt.Errorf("spark driver stopped: %w\n%s", context.Cause(ctx), tail.String())
	}
	if err != nil {
		return fmt.Errorf("spark driver failed: %w\n%s", err, tail.String())
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it, from a line start.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.b
	if len(b) > t.max {
		b = b[len(b)-t.max:]
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.TrimRight(string(b), "\n")
}
