// Command stackreaper destroys and removes dev and review stacks that have been idle
// for longer than their time to live. Without -apply it only prints the plan.
//
// It reads the stacks of the Pulumi project in -cwd through the Pulumi CLI
// (`pulumi stack ls --json`, `pulumi stack tag ls --json`, `pulumi config --json`),
// decides with package stackreaper, and with -apply tears each selected stack down
// after checking the rule again against freshly read state: with
// infra/delivery/scripts/teardown-stack.sh (locks, `pulumi destroy --remove`, purge
// of the soft-deleted Key Vault; it refuses staging and prod on its own), or with a
// bare `pulumi destroy --remove --yes` when -teardown is "none". Staging, prod and any stack that is not a dev or
// review stack are never touched; see package stackreaper for the rules.
//
// Exit status: 0 when the plan (and every destroy) succeeded, 1 when any stack's
// configuration was malformed or any destroy failed, 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/infra/delivery/stackreaper"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stackreaper", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cwd := fs.String("cwd", ".", "directory holding Pulumi.yaml")
	pulumiBin := fs.String("pulumi", "", "pulumi executable (default: <cwd>/.sluice/bin/pulumi when present, else pulumi on PATH)")
	teardown := fs.String("teardown", "", "script that tears a stack down (default: <cwd>/infra/delivery/scripts/teardown-stack.sh; \"none\": plain pulumi destroy)")
	apply := fs.Bool("apply", false, "destroy and remove the selected stacks (default: print the plan only)")
	reviewTTL := fs.Duration("review-ttl", stackreaper.DefaultReviewTTL, "TTL for review stacks that set none (0: keep them)")
	at := fs.String("at", "", "plan as of this RFC 3339 time instead of now (dry run only)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stackreaper: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *reviewTTL < 0 {
		fmt.Fprintln(stderr, "stackreaper: -review-ttl must not be negative")
		return 2
	}
	now := time.Now
	if *at != "" {
		if *apply {
			fmt.Fprintln(stderr, "stackreaper: -at plans for another time and cannot be combined with -apply")
			return 2
		}
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "stackreaper: -at %q is not an RFC 3339 time\n", *at)
			return 2
		}
		now = func() time.Time { return t }
	}
	root, err := filepath.Abs(*cwd)
	if err != nil {
		fmt.Fprintf(stderr, "stackreaper: resolve -cwd: %v\n", err)
		return 2
	}
	bin := *pulumiBin
	if bin == "" {
		bin = defaultPulumi(root)
	}
	r := &reaper{
		cli:       &execCLI{bin: bin, dir: root, teardown: teardownScript(root, *teardown)},
		reviewTTL: *reviewTTL,
		now:       now,
		out:       stdout,
	}
	if err := r.run(ctx, *apply); err != nil {
		fmt.Fprintf(stderr, "stackreaper: %v\n", err)
		return 1
	}
	return 0
}

// teardownScript is the script Destroy runs: flag "none" means none.
func teardownScript(root, flagValue string) string {
	switch flagValue {
	case "none":
		return ""
	case "":
		return filepath.Join(root, "infra", "delivery", "scripts", "teardown-stack.sh")
	}
	return flagValue
}

// defaultPulumi prefers the repository's own CLI build over one on PATH.
func defaultPulumi(root string) string {
	local := filepath.Join(root, ".sluice", "bin", "pulumi")
	if st, err := os.Stat(local); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return local
	}
	return "pulumi"
}

// pulumiCLI is the part of the Pulumi CLI the reaper uses.
type pulumiCLI interface {
	StackList(ctx context.Context) ([]byte, error)
	Tags(ctx context.Context, stack string) ([]byte, error)
	Config(ctx context.Context, stack string) ([]byte, error)
	Destroy(ctx context.Context, stack string) error
}

type reaper struct {
	cli       pulumiCLI
	reviewTTL time.Duration
	now       func() time.Time
	out       io.Writer
}

func (r *reaper) policy() stackreaper.Policy {
	return stackreaper.Policy{Now: r.now(), DefaultReviewTTL: r.reviewTTL}
}

// run prints the plan and, with apply, carries it out. Every problem is reported;
// a malformed stack never stops the others from being handled.
func (r *reaper) run(ctx context.Context, apply bool) error {
	stacks, loadErr, err := r.load(ctx)
	if err != nil {
		return err
	}
	p := r.policy()
	plan, planErr := stackreaper.MakePlan(p, stacks)
	r.print(p, plan)
	planErr = errors.Join(loadErr, planErr)
	if planErr != nil {
		fmt.Fprintf(r.out, "\nstacks that could not be judged (kept):\n%v\n", planErr)
	}
	if !apply {
		if len(plan.Destroy) > 0 {
			fmt.Fprintln(r.out, "\ndry run: pass -apply to destroy the stacks above")
		}
		return planErr
	}

	errs := []error{planErr}
	for _, d := range plan.Destroy {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("stopped before %s: %w", d.Stack, err))
			break
		}
		again, err := r.recheck(ctx, d.Stack)
		if err != nil {
			errs = append(errs, fmt.Errorf("re-check %s: %w", d.Stack, err))
			continue
		}
		if !again.Destroy {
			fmt.Fprintf(r.out, "kept %s on re-check: %s\n", d.Stack, again.Reason)
			continue
		}
		fmt.Fprintf(r.out, "destroying %s: %s\n", d.Stack, again.Reason)
		if err := r.cli.Destroy(ctx, d.Stack); err != nil {
			errs = append(errs, fmt.Errorf("destroy %s: %w", d.Stack, err))
			continue
		}
		fmt.Fprintf(r.out, "destroyed and removed %s\n", d.Stack)
	}
	return errors.Join(errs...)
}

// load lists the stacks and reads tags and config of the candidates only: the
// reaper never needs anything from a stack it will not touch. A stack whose tags or
// config cannot be read is left out of the plan (so it is kept) and reported in
// skipped; err is set only when the list itself cannot be read.
func (r *reaper) load(ctx context.Context) (stacks []stackreaper.Stack, skipped, err error) {
	raw, err := r.cli.StackList(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list stacks: %w", err)
	}
	listed, err := stackreaper.ParseStackList(raw)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, l := range listed {
		s, err := r.describe(ctx, l)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		stacks = append(stacks, s)
	}
	return stacks, errors.Join(errs...), nil
}

func (r *reaper) describe(ctx context.Context, l stackreaper.Listed) (stackreaper.Stack, error) {
	s := stackreaper.Stack{Name: l.Name, LastUpdate: l.LastUpdate, UpdateInProgress: l.UpdateInProgress}
	if stackreaper.Classify(l.Name) == stackreaper.KindOther {
		return s, nil
	}
	rawTags, err := r.cli.Tags(ctx, l.Name)
	if err != nil {
		return s, fmt.Errorf("read tags of %s: %w", l.Name, err)
	}
	if s.Tags, err = stackreaper.ParseTags(rawTags); err != nil {
		return s, fmt.Errorf("stack %s: %w", l.Name, err)
	}
	rawConfig, err := r.cli.Config(ctx, l.Name)
	if err != nil {
		return s, fmt.Errorf("read config of %s: %w", l.Name, err)
	}
	if s.Config, err = stackreaper.ParseConfig(rawConfig); err != nil {
		return s, fmt.Errorf("stack %s: %w", l.Name, err)
	}
	return s, nil
}

// recheck reads one stack afresh and decides again, so a stack updated, protected
// or removed since the plan was made is left alone.
func (r *reaper) recheck(ctx context.Context, name string) (stackreaper.Decision, error) {
	raw, err := r.cli.StackList(ctx)
	if err != nil {
		return stackreaper.Decision{}, fmt.Errorf("list stacks: %w", err)
	}
	listed, err := stackreaper.ParseStackList(raw)
	if err != nil {
		return stackreaper.Decision{}, err
	}
	for _, l := range listed {
		if l.Name != name {
			continue
		}
		s, err := r.describe(ctx, l)
		if err != nil {
			return stackreaper.Decision{}, err
		}
		return stackreaper.Evaluate(r.policy(), s)
	}
	return stackreaper.Decision{Stack: name, Reason: "no longer listed"}, nil
}

func (r *reaper) print(p stackreaper.Policy, plan stackreaper.Plan) {
	fmt.Fprintf(r.out, "stackreaper at %s: %d to destroy, %d kept\n",
		p.Now.UTC().Format(time.RFC3339), len(plan.Destroy), len(plan.Keep))
	width := 5
	for _, d := range append(append([]stackreaper.Decision{}, plan.Destroy...), plan.Keep...) {
		width = max(width, len(d.Stack))
	}
	for _, d := range plan.Destroy {
		fmt.Fprintf(r.out, "DESTROY  %-*s  %s\n", width, d.Stack, d.Reason)
	}
	for _, d := range plan.Keep {
		fmt.Fprintf(r.out, "keep     %-*s  %s\n", width, d.Stack, d.Reason)
	}
}
