package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// fakeCLI serves canned CLI output. lists are returned in turn by StackList (the
// last one repeats), so a test can change the world between plan and re-check.
type fakeCLI struct {
	lists     []string
	tags      map[string]string
	config    map[string]string
	failTags  map[string]bool
	destroyed []string
	described []string
	calls     int
}

func (f *fakeCLI) StackList(context.Context) ([]byte, error) {
	i := min(f.calls, len(f.lists)-1)
	f.calls++
	return []byte(f.lists[i]), nil
}

func (f *fakeCLI) Tags(_ context.Context, stack string) ([]byte, error) {
	f.described = append(f.described, stack)
	if f.failTags[stack] {
		return nil, errors.New("backend unavailable")
	}
	if t, ok := f.tags[stack]; ok {
		return []byte(t), nil
	}
	return []byte(`{}`), nil
}

func (f *fakeCLI) Config(_ context.Context, stack string) ([]byte, error) {
	if c, ok := f.config[stack]; ok {
		return []byte(c), nil
	}
	return []byte(`{}`), nil
}

func (f *fakeCLI) Destroy(_ context.Context, stack string) error {
	f.destroyed = append(f.destroyed, stack)
	return nil
}

func ts(d time.Duration) string { return now.Add(-d).Format("2006-01-02T15:04:05.000Z07:00") }

func newReaper(cli pulumiCLI, out *bytes.Buffer) *reaper {
	return &reaper{cli: cli, reviewTTL: 72 * time.Hour, now: func() time.Time { return now }, out: out}
}

func TestDryRunDestroysNothing(t *testing.T) {
	cli := &fakeCLI{lists: []string{fmt.Sprintf(`[
		{"name": "review-pr1", "lastUpdate": %q},
		{"name": "prod", "lastUpdate": %q}]`, ts(100*time.Hour), ts(10000*time.Hour))}}
	var out bytes.Buffer
	if err := newReaper(cli, &out).run(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if len(cli.destroyed) != 0 {
		t.Fatalf("dry run destroyed %v", cli.destroyed)
	}
	if !strings.Contains(out.String(), "DESTROY  review-pr1") || !strings.Contains(out.String(), "-apply") {
		t.Fatalf("plan output:\n%s", out.String())
	}
}

func TestApply(t *testing.T) {
	list := fmt.Sprintf(`[
		{"name": "review-pr1", "lastUpdate": %q},
		{"name": "review-pr2", "lastUpdate": %q},
		{"name": "dev", "lastUpdate": %q},
		{"name": "staging", "lastUpdate": %q},
		{"name": "prod", "lastUpdate": %q}]`,
		ts(100*time.Hour), ts(time.Hour), ts(30*time.Hour), ts(9000*time.Hour), ts(9000*time.Hour))
	cli := &fakeCLI{
		lists:  []string{list},
		config: map[string]string{"dev": `{"sluice:ttlHours": {"value": "24", "secret": false}}`},
		// A TTL on prod must change nothing.
		tags: map[string]string{"prod": `{"sluice:ttl-hours": "1"}`},
	}
	var out bytes.Buffer
	if err := newReaper(cli, &out).run(context.Background(), true); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got := strings.Join(cli.destroyed, ","); got != "dev,review-pr1" {
		t.Fatalf("destroyed %s\n%s", got, out.String())
	}
	for _, s := range cli.described {
		if s == "prod" || s == "staging" {
			t.Fatalf("read tags of long-lived stack %s", s)
		}
	}
}

func TestRecheckBeforeActing(t *testing.T) {
	first := fmt.Sprintf(`[{"name": "review-pr1", "lastUpdate": %q}, {"name": "review-pr2", "lastUpdate": %q}, {"name": "review-pr3", "lastUpdate": %q}]`,
		ts(100*time.Hour), ts(100*time.Hour), ts(100*time.Hour))
	// Between plan and action: pr1 was updated, pr2 was removed, pr3 is unchanged.
	second := fmt.Sprintf(`[{"name": "review-pr1", "lastUpdate": %q}, {"name": "review-pr3", "lastUpdate": %q}]`,
		ts(time.Minute), ts(100*time.Hour))
	cli := &fakeCLI{lists: []string{first, second}}
	var out bytes.Buffer
	if err := newReaper(cli, &out).run(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cli.destroyed, ","); got != "review-pr3" {
		t.Fatalf("destroyed %s\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), "kept review-pr1 on re-check") || !strings.Contains(out.String(), "kept review-pr2 on re-check: no longer listed") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestProtectedOnRecheck(t *testing.T) {
	list := fmt.Sprintf(`[{"name": "dev", "lastUpdate": %q}]`, ts(100*time.Hour))
	cli := &fakeCLI{lists: []string{list}, tags: map[string]string{"dev": `{"sluice:ttl-hours": "1"}`}}
	r := newReaper(cli, &bytes.Buffer{})
	// Protect the stack after the first read of its tags.
	orig := cli.tags["dev"]
	wrapped := &protectAfterFirst{fakeCLI: cli, first: orig}
	r.cli = wrapped
	if err := r.run(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if len(cli.destroyed) != 0 {
		t.Fatalf("destroyed a stack protected before acting: %v", cli.destroyed)
	}
}

type protectAfterFirst struct {
	*fakeCLI
	first string
	n     int
}

func (p *protectAfterFirst) Tags(ctx context.Context, stack string) ([]byte, error) {
	p.n++
	if p.n == 1 {
		return []byte(p.first), nil
	}
	return []byte(`{"sluice:ttl-hours": "1", "sluice:protected": "true"}`), nil
}

func TestMalformedStacksAreReportedAndKept(t *testing.T) {
	list := fmt.Sprintf(`[{"name": "dev", "lastUpdate": %q}, {"name": "review-pr1", "lastUpdate": %q}, {"name": "review-pr2", "lastUpdate": %q}]`,
		ts(100*time.Hour), ts(100*time.Hour), ts(100*time.Hour))
	cli := &fakeCLI{
		lists:    []string{list},
		config:   map[string]string{"dev": `{"sluice:ttlHours": {"value": "a week", "secret": false}}`},
		failTags: map[string]bool{"review-pr2": true},
	}
	var out bytes.Buffer
	err := newReaper(cli, &out).run(context.Background(), true)
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{"stack dev:", "review-pr2", "backend unavailable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The well-formed expired stack is still handled.
	if got := strings.Join(cli.destroyed, ","); got != "review-pr1" {
		t.Fatalf("destroyed %s", got)
	}
}

func TestMalformedListFails(t *testing.T) {
	cli := &fakeCLI{lists: []string{`not json`}}
	if err := newReaper(cli, &bytes.Buffer{}).run(context.Background(), true); err == nil {
		t.Fatal("accepted a malformed stack list")
	}
	if len(cli.destroyed) != 0 {
		t.Fatal("destroyed with a malformed list")
	}
}

// TestExecCLI runs the real exec wrapper against a stand-in pulumi script and
// checks the exact arguments the Pulumi CLI receives.
func TestExecCLI(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "args.log")
	script := "#!/bin/sh\necho \"$*\" >> " + logFile + "\n" +
		"case \"$*\" in *'stack ls'*) echo '[]';; *'tag ls'*) echo '{}';; *config*) echo '{}';; esac\n"
	bin := filepath.Join(dir, "pulumi")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &execCLI{bin: bin, dir: "/repo"}
	ctx := context.Background()
	if _, err := c.StackList(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tags(ctx, "-rf"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Config(ctx, "review-pr1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(ctx, "review-pr1"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"--cwd /repo --non-interactive --color never stack ls --json",
		"--cwd /repo --non-interactive --color never stack tag ls --json --stack=-rf",
		"--cwd /repo --non-interactive --color never config --json --stack=review-pr1",
		"--cwd /repo --non-interactive --color never destroy --stack=review-pr1 --remove --yes --skip-preview",
	}, "\n") + "\n"
	if string(got) != want {
		t.Fatalf("arguments:\n%s\nwant:\n%s", got, want)
	}

	failing := filepath.Join(dir, "failing")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'error: no stack' >&2\nexit 255\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = (&execCLI{bin: failing, dir: dir}).StackList(ctx)
	if err == nil || !strings.Contains(err.Error(), "error: no stack") {
		t.Fatalf("failure not reported with stderr: %v", err)
	}
}

func TestFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := realMain(context.Background(), []string{"-review-ttl", "-1h"}, &out, &errOut); code != 2 {
		t.Fatalf("negative ttl: exit %d", code)
	}
	if code := realMain(context.Background(), []string{"extra"}, &out, &errOut); code != 2 {
		t.Fatalf("extra argument: exit %d", code)
	}
	if code := realMain(context.Background(), []string{"-apply", "-at", "2030-01-01T00:00:00Z"}, &out, &errOut); code != 2 {
		t.Fatalf("-apply with -at: exit %d", code)
	}
	if code := realMain(context.Background(), []string{"-at", "tomorrow"}, &out, &errOut); code != 2 {
		t.Fatalf("bad -at: exit %d", code)
	}
	if code := realMain(context.Background(), []string{"-pulumi", "/nonexistent/pulumi"}, &out, &errOut); code != 1 {
		t.Fatalf("missing CLI: exit %d", code)
	}
}

func TestDestroyRunsTheTeardownScript(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "teardown.log")
	script := filepath.Join(dir, "teardown.sh")
	if err := os.WriteFile(script, []byte("echo \"$PULUMI $*\" >> "+logFile+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &execCLI{bin: "/bin/pulumi-x", dir: dir, teardown: script}
	if err := c.Destroy(context.Background(), "review-pr7"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(logFile)
	if err != nil || string(got) != "/bin/pulumi-x review-pr7\n" {
		t.Fatalf("teardown script ran with %q (%v)", got, err)
	}
	if teardownScript("/r", "") != "/r/infra/delivery/scripts/teardown-stack.sh" || teardownScript("/r", "none") != "" {
		t.Fatal("teardown script defaults")
	}
}
