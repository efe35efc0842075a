package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// execCLI runs the Pulumi CLI in the project directory.
type execCLI struct {
	bin string
	dir string
	// teardown, when set, is the script that tears a stack down
	// (infra/delivery/scripts/teardown-stack.sh: locks, destroy, remove,
	// purge of the soft-deleted vault) instead of a bare pulumi destroy.
	teardown string
}

func (c *execCLI) output(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{"--cwd", c.dir, "--non-interactive", "--color", "never"}, args...)
	cmd := exec.CommandContext(ctx, c.bin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pulumi %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func (c *execCLI) StackList(ctx context.Context) ([]byte, error) {
	return c.output(ctx, "stack", "ls", "--json")
}

// Stack names are passed as --stack=NAME so a name can never be read as a flag.

func (c *execCLI) Tags(ctx context.Context, stack string) ([]byte, error) {
	return c.output(ctx, "stack", "tag", "ls", "--json", "--stack="+stack)
}

func (c *execCLI) Config(ctx context.Context, stack string) ([]byte, error) {
	return c.output(ctx, "config", "--json", "--stack="+stack)
}

// Destroy streams the CLI's progress to this process's output: a destroy can take
// many minutes and its log is what an operator reads when it fails.
func (c *execCLI) Destroy(ctx context.Context, stack string) error {
	if c.teardown != "" {
		cmd := exec.CommandContext(ctx, "bash", c.teardown, stack)
		cmd.Env = append(os.Environ(), "PULUMI="+c.bin)
		cmd.Stdout = os.Stdout
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("teardown of %s: %w", stack, err)
		}
		return nil
	}
	args := []string{"--cwd", c.dir, "--non-interactive", "--color", "never",
		"destroy", "--stack=" + stack, "--remove", "--yes", "--skip-preview"}
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pulumi destroy --stack=%s: %w", stack, err)
	}
	return nil
}
