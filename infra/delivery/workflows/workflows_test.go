package workflows

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// expected are the workflows the delivery issue asks for; the tests fail if one
// goes missing, so they can never pass on an empty directory.
var expected = []string{"deploy.yml", "drift.yml", "pr.yml", "review-stack.yml", "stack-up.yml", "teardown.yml"}

func workflowFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, ".github", "workflows", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	have := map[string]bool{}
	for _, f := range files {
		have[filepath.Base(f)] = true
	}
	for _, name := range expected {
		if !have[name] {
			t.Errorf("workflow .github/workflows/%s is missing", name)
		}
	}
	return files
}

func newLinter(t *testing.T, out *bytes.Buffer) *actionlint.Linter {
	t.Helper()
	l, err := actionlint.NewLinter(out, &actionlint.LinterOptions{
		// shellcheck checks the run: scripts when it is installed; without it that
		// one rule is skipped and every other rule still runs.
		Shellcheck: "shellcheck",
		Color:      actionlint.ColorOptionKindNever,
	})
	if err != nil {
		t.Fatalf("create linter: %v", err)
	}
	return l
}

func TestActionlint(t *testing.T) {
	root := roottest.Root(t)
	files := workflowFiles(t, root)
	proj, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatalf("load project: %v", err)
	}
	var out bytes.Buffer
	errs, err := newLinter(t, &out).LintFiles(files, proj)
	if err != nil {
		t.Fatalf("actionlint: %v", err)
	}
	for _, e := range errs {
		rel, _ := filepath.Rel(root, e.Filepath)
		t.Errorf("%s:%d:%d: %s [%s]", rel, e.Line, e.Column, e.Message, e.Kind)
	}
}

// The linter is configured to find problems: a broken workflow must be reported.
func TestActionlintCatchesErrors(t *testing.T) {
	bad := []byte(`on: push
jobs:
  x:
    runs-on: ubuntu-24.04
    steps:
      - run: echo ${{ github.nope.nothing }}
      - uses: actions/checkout@v4
        with:
          no-such-input: 1
`)
	var out bytes.Buffer
	errs, err := newLinter(t, &out).Lint("bad.yml", bad, nil)
	if err != nil {
		t.Fatalf("actionlint: %v", err)
	}
	if len(errs) == 0 {
		t.Fatal("actionlint reported nothing for a broken workflow")
	}
}

func TestHouseRules(t *testing.T) {
	root := roottest.Root(t)
	for _, f := range workflowFiles(t, root) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range checkWorkflow(data) {
			t.Errorf("%s: %s", filepath.Base(f), p)
		}
	}
}

// TestHouseRulesCatch feeds each rule a workflow that breaks it.
func TestHouseRulesCatch(t *testing.T) {
	const sha = "11bd71901bbe5b1630ceea73d27597364c9af683"
	ok := `on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      id-token: write
    concurrency:
      group: pulumi-dev
      cancel-in-progress: false
    steps:
      - uses: actions/checkout@` + sha + ` # v4.2.2
      - uses: azure/login@` + sha + ` # v2.3.0
      - uses: ./.github/actions/local
      - run: make up STACK=dev
`
	if p := checkWorkflow([]byte(ok)); len(p) != 0 {
		t.Fatalf("clean workflow flagged: %v", p)
	}
	cases := map[string]struct{ old, new, want string }{
		"tag instead of sha":       {"checkout@" + sha + " # v4.2.2", "checkout@v4", "not pinned"},
		"short sha":                {"checkout@" + sha, "checkout@" + sha[:12], "not pinned"},
		"no version comment":       {"checkout@" + sha + " # v4.2.2", "checkout@" + sha, "version comment"},
		"no workflow permissions":  {"permissions: {}\n", "", "workflow-level permissions"},
		"broad workflow perms":     {"permissions: {}\n", "permissions: write-all\n", "workflow-level permissions"},
		"no job permissions":       {"    permissions:\n      contents: read\n      id-token: write\n", "", "no permissions"},
		"job write-all":            {"    permissions:\n      contents: read\n      id-token: write\n", "    permissions: write-all\n", "write-all"},
		"id-token without login":   {"      - uses: azure/login@" + sha + " # v2.3.0\n", "", "id-token: write"},
		"stack change, no group":   {"    concurrency:\n      group: pulumi-dev\n      cancel-in-progress: false\n", "", "concurrency"},
		"stack change, cancelling": {"cancel-in-progress: false", "cancel-in-progress: true", "cancel"},
		"pull_request_target":      {"on: push", "on: pull_request_target", "pull_request_target"},
	}
	for name, tc := range cases {
		if !strings.Contains(ok, tc.old) {
			t.Fatalf("%s: fixture lacks %q", name, tc.old)
		}
		bad := strings.Replace(ok, tc.old, tc.new, 1)
		problems := checkWorkflow([]byte(bad))
		if !containsAny(problems, tc.want) {
			t.Errorf("%s: want a problem mentioning %q, got %v", name, tc.want, problems)
		}
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

var (
	pinnedRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)
	versionRE = regexp.MustCompile(`^#\s*v\d+(\.\d+){0,2}\b`)
	// Commands that change a stack.
	stackChangeRE = regexp.MustCompile(`make (up|destroy)\b|review-stack\.sh|stack-up\.sh|teardown-stack\.sh|stackreaper\b.*-apply|pulumi (up|destroy)\b`)
)

// checkWorkflow returns the house-rule problems of one workflow file.
func checkWorkflow(data []byte) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []string{fmt.Sprintf("parse: %v", err)}
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return []string{"not a mapping"}
	}
	top := doc.Content[0]
	var problems []string

	if on := get(top, "on"); on != nil && strings.Contains(nodeText(on), "pull_request_target") {
		problems = append(problems, "uses pull_request_target")
	}
	if p := get(top, "permissions"); p == nil || p.Kind != yaml.MappingNode || len(p.Content) != 0 {
		problems = append(problems, "workflow-level permissions must be {} (each job declares its own)")
	}

	jobs := get(top, "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode {
		return append(problems, "no jobs")
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		name, job := jobs.Content[i].Value, jobs.Content[i+1]
		problems = append(problems, checkJob(name, job)...)
	}
	return problems
}

func checkJob(name string, job *yaml.Node) []string {
	var problems []string
	perms := get(job, "permissions")
	switch {
	case perms == nil:
		problems = append(problems, fmt.Sprintf("job %s: no permissions", name))
	case perms.Kind == yaml.ScalarNode && strings.HasSuffix(perms.Value, "-all"):
		problems = append(problems, fmt.Sprintf("job %s: permissions %s (list the scopes it needs)", name, perms.Value))
	}

	signsIn := false
	changesStack := false
	var uses []*yaml.Node
	if u := get(job, "uses"); u != nil {
		uses = append(uses, u)
		// A called workflow does its own sign-in and is checked on its own.
		signsIn = true
	}
	if steps := get(job, "steps"); steps != nil {
		for _, step := range steps.Content {
			if u := get(step, "uses"); u != nil {
				uses = append(uses, u)
				if strings.HasPrefix(u.Value, "azure/login@") {
					signsIn = true
				}
			}
			if r := get(step, "run"); r != nil && stackChangeRE.MatchString(r.Value) {
				changesStack = true
			}
			if r := get(step, "run"); r != nil && strings.Contains(r.Value, "ci-pulumi-login.sh") {
				signsIn = true
			}
		}
	}
	for _, u := range uses {
		if strings.HasPrefix(u.Value, "./") {
			continue
		}
		if !pinnedRE.MatchString(u.Value) {
			problems = append(problems, fmt.Sprintf("job %s: %s is not pinned to a full commit SHA", name, u.Value))
			continue
		}
		if !versionRE.MatchString(strings.TrimSpace(u.LineComment)) {
			problems = append(problems, fmt.Sprintf("job %s: %s lacks a version comment (# vX.Y.Z)", name, u.Value))
		}
	}

	if perms != nil && perms.Kind == yaml.MappingNode {
		if v := get(perms, "id-token"); v != nil && v.Value == "write" && !signsIn {
			problems = append(problems, fmt.Sprintf("job %s: id-token: write without an Azure or Pulumi sign-in", name))
		}
	}
	if changesStack {
		c := get(job, "concurrency")
		switch {
		case c == nil || (c.Kind == yaml.MappingNode && get(c, "group") == nil):
			problems = append(problems, fmt.Sprintf("job %s: changes a stack without a concurrency group", name))
		case c.Kind == yaml.MappingNode:
			if cancel := get(c, "cancel-in-progress"); cancel != nil && cancel.Value != "false" {
				problems = append(problems, fmt.Sprintf("job %s: a stack update must never be cancelled in progress", name))
			}
		}
	}
	return problems
}

// get returns the value of key in a mapping node, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// nodeText flattens the scalars of a node, for keyword searches.
func nodeText(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var parts []string
	for _, c := range n.Content {
		parts = append(parts, nodeText(c))
	}
	return strings.Join(parts, " ")
}
