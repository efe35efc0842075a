package langhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// operations are the CLI commands that run the program and take --client.
var operations = map[string]bool{"preview": true, "up": true, "update": true, "destroy": true, "refresh": true}

// Command is one CLI invocation: the executable, its arguments (global flags,
// the operation, its flags) and the standard streams.
type Command struct {
	CLI    string
	Args   []string
	Env    []string // nil: this process's environment
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Exec serves program, runs the CLI with --client=<the host> added, and
// returns the CLI's exit code. SIGINT and SIGTERM are passed on to the CLI,
// which cancels the operation cleanly (Pulumi finishes the steps in flight and
// saves the state), and Exec waits for it.
func Exec(ctx context.Context, program pulumi.RunFunc, plugins []Plugin, c Command) (int, error) {
	if c.CLI == "" {
		return 0, errors.New("langhost: no pulumi executable")
	}
	if !hasOperation(c.Args) {
		return 0, fmt.Errorf("langhost: %q runs no program operation (want one of preview, up, destroy, refresh)", c.Args)
	}
	h, err := Start(program, plugins)
	if err != nil {
		return 0, err
	}
	defer func() { _ = h.Stop() }()

	cmd := exec.CommandContext(ctx, c.CLI, append(append([]string{}, c.Args...), "--client="+h.Addr())...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Env, c.Stdin, c.Stdout, c.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	// A plugin process the CLI left behind must not hold Exec open through
	// the output pipes once the CLI itself has exited.
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("langhost: start %s: %w", c.CLI, err)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// On a terminal the CLI gets Ctrl-C itself (it is in the foreground
	// process group); passing SIGINT on as well would be a second interrupt,
	// which Pulumi takes as "abort now". Without a terminal both go on.
	interactive := isTerminal(c.Stdin)
	for {
		select {
		case s := <-sigs:
			if s == os.Interrupt && interactive {
				continue
			}
			_ = cmd.Process.Signal(s)
		case err := <-waited:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return exit.ExitCode(), nil
			}
			if err != nil {
				return 0, fmt.Errorf("langhost: run %s: %w", c.CLI, err)
			}
			return 0, nil
		}
	}
}

// hasOperation reports whether an argument is one of the operations. Global
// flags with a separate value (--cwd DIR, --color never) come before it; a
// value equal to an operation's name is not expected.
func hasOperation(args []string) bool {
	for _, a := range args {
		if operations[a] {
			return true
		}
	}
	return false
}

// isTerminal reports whether r is a character device (a terminal).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
