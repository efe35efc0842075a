// Command prcomment renders the pull-request comment that reports `pulumi preview`
// for several stacks (see package prcomment).
//
// It reads a directory written by infra/delivery/scripts/preview-stacks.sh: for every
// stack, <stack>.log holds what the CLI printed and <stack>.exit its exit code, or
// <stack>.skip holds the reason the stack was not previewed. Stacks are listed
// dev, staging, prod first, then the rest by name.
//
//	prcomment -dir .sluice/preview -commit "$SHA" -run-url "$URL" -o comment.md
//
// With the affected subcommand it reads changed paths (one per line, as
// `git diff --name-only` prints them) on standard input and prints the stacks among
// -stacks that the change touches, one per line (see prcomment.Affected):
//
//	git diff --name-only "$BASE" "$HEAD" | prcomment affected -stacks dev,staging,prod
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/infra/delivery/prcomment"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "affected" {
		return affectedMain(args[1:], os.Stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("prcomment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory with <stack>.log and <stack>.exit (or <stack>.skip) files")
	out := fs.String("o", "-", "output file (- for standard output)")
	commit := fs.String("commit", "", "commit the previews ran on")
	runURL := fs.String("run-url", "", "link to the workflow run")
	title := fs.String("title", "", "heading (default \"Pulumi preview\")")
	marker := fs.String("marker", prcomment.Marker, "hidden html comment that identifies the comment")
	maxSize := fs.Int("max-size", prcomment.DefaultMaxSize, "upper bound of the body size (see prcomment.Size)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: prcomment -dir DIR [-o FILE] [-commit SHA] [-run-url URL]")
		return 2
	}
	results, err := readResults(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "prcomment: %v\n", err)
		return 1
	}
	body, err := prcomment.Build(prcomment.Options{
		Marker: *marker, Title: *title, Commit: *commit, RunURL: *runURL, MaxSize: *maxSize,
	}, results)
	if err != nil {
		fmt.Fprintf(stderr, "prcomment: %v\n", err)
		return 1
	}
	if err := write(*out, stdout, body); err != nil {
		fmt.Fprintf(stderr, "prcomment: %v\n", err)
		return 1
	}
	return 0
}

func affectedMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("prcomment affected", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stacks := fs.String("stacks", "dev,staging,prod", "comma-separated stacks to choose from")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: prcomment affected [-stacks a,b,c] < changed-paths")
		return 2
	}
	data, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "prcomment: read changed paths: %v\n", err)
		return 1
	}
	var names []string
	for _, s := range strings.Split(*stacks, ",") {
		if s = strings.TrimSpace(s); s != "" {
			names = append(names, s)
		}
	}
	for _, s := range prcomment.Affected(strings.Split(string(data), "\n"), names) {
		if _, err := fmt.Fprintln(stdout, s); err != nil {
			fmt.Fprintf(stderr, "prcomment: %v\n", err)
			return 1
		}
	}
	return 0
}

func write(path string, stdout io.Writer, body string) error {
	if path == "-" {
		if _, err := io.WriteString(stdout, body); err != nil {
			return fmt.Errorf("write body: %w", err)
		}
		return nil
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		return fmt.Errorf("write body: %w", err)
	}
	return nil
}

// readResults collects one Result per stack found in dir.
func readResults(dir string) ([]prcomment.Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	stacks := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		ext := filepath.Ext(e.Name())
		switch ext {
		case ".log", ".exit", ".skip":
			stacks[strings.TrimSuffix(e.Name(), ext)] = true
		}
	}
	if len(stacks) == 0 {
		return nil, fmt.Errorf("read results: no <stack>.log, .exit or .skip files in %s", dir)
	}
	names := make([]string, 0, len(stacks))
	for s := range stacks {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool { return stackLess(names[i], names[j]) })

	var results []prcomment.Result
	var errs []error
	for _, name := range names {
		r, err := readResult(dir, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results = append(results, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}

func readResult(dir, stack string) (prcomment.Result, error) {
	r := prcomment.Result{Stack: stack}
	base := filepath.Join(dir, stack)
	if skip, err := os.ReadFile(base + ".skip"); err == nil {
		r.Skipped = strings.TrimSpace(string(skip))
		if r.Skipped == "" {
			r.Skipped = "not previewed"
		}
		return r, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return r, fmt.Errorf("stack %s: %w", stack, err)
	}
	code, err := os.ReadFile(base + ".exit")
	if err != nil {
		return r, fmt.Errorf("stack %s: exit code: %w", stack, err)
	}
	r.ExitCode, err = strconv.Atoi(strings.TrimSpace(string(code)))
	if err != nil {
		return r, fmt.Errorf("stack %s: exit code %q is not a number", stack, strings.TrimSpace(string(code)))
	}
	logData, err := os.ReadFile(base + ".log")
	if err != nil {
		return r, fmt.Errorf("stack %s: output: %w", stack, err)
	}
	r.Output = string(logData)
	return r, nil
}

var stackRank = map[string]int{"dev": 0, "staging": 1, "prod": 2}

func stackLess(a, b string) bool {
	ra, okA := stackRank[a]
	rb, okB := stackRank[b]
	switch {
	case okA && okB:
		return ra < rb
	case okA != okB:
		return okA
	default:
		return a < b
	}
}
