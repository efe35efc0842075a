package workflows

import (
	"flag"

	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/infra/bootstrap/trust"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

var update = flag.Bool("update", false, "rewrite the delivery table in infra/DELIVERY.md")

// job is what the trust tests need of one workflow job.
type job struct {
	file, name string
	node       *yaml.Node
	// subjects are the OIDC subjects (after repo:<owner>/<repo>:) its token
	// can carry; clientVars the repository variables it signs in with.
	subjects   []string
	clientVars []string
	// stacks are the stacks it touches through a cluster, with the runs-on
	// labels it uses for each.
	stacks map[string][]string
	// via names, per subject, the caller job of a reusable workflow.
	via map[string]string
}

func (j job) id() string { return strings.TrimSuffix(j.file, ".yml") + "/" + j.name }

var (
	varRE     = regexp.MustCompile(`vars\.(AZURE_CLIENT_ID_[A-Z_]+)`)
	exprRE    = regexp.MustCompile(`^\$\{\{\s*(matrix|inputs)\.([a-z-]+)\s*\}\}$`)
	clusterRE = regexp.MustCompile(`preview-stacks\.sh|drift-check\.sh check|stack-up\.sh|review-stack\.sh|stackreaper|teardown-stack\.sh`)
	kubeRE    = regexp.MustCompile(`make [^\n]*\bkubelogin-install\b`)
	pulumiRE  = regexp.MustCompile(`make [^\n]*\bpulumi-cli\b`)
	// The release archive has no pinned digest: a job that runs it fails closed.
	releaseRE = regexp.MustCompile(`\bpulumi-install\b|install-pulumi\.sh`)
	// The build cache of the pinned CLI: keyed on its go.sum, and the directory
	// the build step points GOCACHE into.
	cliSumKey  = "hashFiles('infra/delivery/pulumi-cli/go.sum')"
	gocacheRE  = regexp.MustCompile(`GOCACHE="\$HOME/([^"]+)"`)
	unpinnedRE = regexp.MustCompile(`az aks install-cli|azure/use-kubelogin|get\.pulumi\.com|pulumi/actions|pulumi/setup-pulumi`)
)

func load(t *testing.T) map[string]*yaml.Node {
	t.Helper()
	root := roottest.Root(t)
	docs := map[string]*yaml.Node{}
	for _, f := range workflowFiles(t, root) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		docs[filepath.Base(f)] = doc.Content[0]
	}
	return docs
}

// matrixValues lists the values of matrix key k (plain list or include:).
func matrixValues(j *yaml.Node, k string) []string {
	m := get(get(j, "strategy"), "matrix")
	var out []string
	if l := get(m, k); l != nil {
		for _, c := range l.Content {
			out = append(out, c.Value)
		}
	}
	if inc := get(m, "include"); inc != nil {
		for _, e := range inc.Content {
			if v := get(e, k); v != nil {
				out = append(out, v.Value)
			}
		}
	}
	return out
}

// resolve expands a literal, ${{ matrix.k }} or ${{ inputs.k }} (from the
// callers' with:) into its possible values.
func resolve(v string, j *yaml.Node, callers []map[string]string) []string {
	m := exprRE.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return []string{v}
	}
	if m[1] == "matrix" {
		return matrixValues(j, m[2])
	}
	var out []string
	for _, c := range callers {
		out = append(out, c[m[2]])
	}
	return out
}

func triggers(doc *yaml.Node) string { return nodeText(get(doc, "on")) }

// jobs reads every job that signs in to Azure, with the subjects its token can
// carry and the client-id variables it uses.
func jobs(t *testing.T) []job {
	t.Helper()
	docs := load(t)
	// Callers of reusable workflows: file -> list of with: maps.
	callers := map[string][]map[string]string{}
	for callerFile, doc := range docs {
		js := get(doc, "jobs")
		for i := 0; i+1 < len(js.Content); i += 2 {
			if u := get(js.Content[i+1], "uses"); u != nil && strings.HasPrefix(u.Value, "./.github/workflows/") {
				with := map[string]string{"__caller": strings.TrimSuffix(callerFile, ".yml") + "/" + js.Content[i].Value}
				w := get(js.Content[i+1], "with")
				for k := 0; w != nil && k+1 < len(w.Content); k += 2 {
					with[w.Content[k].Value] = w.Content[k+1].Value
				}
				callers[filepath.Base(u.Value)] = append(callers[filepath.Base(u.Value)], with)
			}
		}
	}
	var out []job
	for file, doc := range docs {
		js := get(doc, "jobs")
		for i := 0; i+1 < len(js.Content); i += 2 {
			n := js.Content[i+1]
			j := job{file: file, name: js.Content[i].Value, node: n, stacks: map[string][]string{}, via: map[string]string{}}
			login := false
			var runs []string
			var steps []*yaml.Node
			if st := get(n, "steps"); st != nil {
				steps = st.Content
			}
			for _, s := range steps {
				if u := get(s, "uses"); u != nil && strings.HasPrefix(u.Value, "azure/login@") {
					login = true
					cid := get(get(s, "with"), "client-id").Value
					for _, c := range resolve(cid, n, callers[file]) {
						for _, m := range varRE.FindAllStringSubmatch(c, -1) {
							j.clientVars = append(j.clientVars, m[1])
						}
					}
				}
				if r := get(s, "run"); r != nil {
					runs = append(runs, r.Value)
				}
			}
			if !login {
				continue
			}
			if env := get(n, "environment"); env != nil {
				for _, e := range resolve(env.Value, n, callers[file]) {
					j.subjects = append(j.subjects, "environment:"+e)
					for _, c := range callers[file] {
						if strings.Contains(env.Value, "inputs.") && resolve(env.Value, n, []map[string]string{c})[0] == e {
							j.via["environment:"+e] = c["__caller"]
						}
					}
				}
			} else if strings.Contains(triggers(doc), "pull_request") {
				j.subjects = []string{"pull_request"}
			} else {
				j.subjects = []string{"ref:refs/heads/main"}
			}
			// Stacks reached through a cluster, and their runners.
			if clusterRE.MatchString(strings.Join(runs, "\n")) {
				for _, st := range jobStacks(t, j.id(), n, callers[file]) {
					j.stacks[st.stack] = st.runsOn
				}
			}
			out = append(out, j)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id() < out[b].id() })
	return out
}

type stackRun struct {
	stack  string
	runsOn []string
}

// labels reads a runs-on value: a label, a JSON string or a JSON list (the
// form fromJSON takes).
func labels(v string) []string {
	v = strings.TrimSpace(v)
	var out []string
	if err := yaml.Unmarshal([]byte(v), &out); err == nil {
		return out
	}
	var one string
	if err := yaml.Unmarshal([]byte(v), &one); err == nil {
		return []string{one}
	}
	return []string{v}
}

// jobStacks pairs each stack a job works on (its env STACK) with the runner
// labels it runs on for that stack.
func jobStacks(t *testing.T, id string, n *yaml.Node, callers []map[string]string) []stackRun {
	t.Helper()
	st := get(get(n, "env"), "STACK")
	if st == nil {
		t.Errorf("%s touches a cluster but sets no env STACK", id)
		return nil
	}
	ro := get(n, "runs-on")
	runsOn := func(pick func(key string) string) []string {
		if ro.Kind == yaml.SequenceNode {
			var l []string
			for _, c := range ro.Content {
				l = append(l, c.Value)
			}
			return l
		}
		if m := regexp.MustCompile(`^\$\{\{\s*fromJSON\((matrix|inputs)\.runs-on\)\s*\}\}$`).FindStringSubmatch(ro.Value); m != nil {
			return labels(pick("runs-on"))
		}
		return []string{ro.Value}
	}
	var out []stackRun
	switch m := exprRE.FindStringSubmatch(st.Value); {
	case m != nil && m[1] == "inputs":
		for _, c := range callers {
			out = append(out, stackRun{c[m[2]], runsOn(func(k string) string { return c[k] })})
		}
	case m != nil && m[1] == "matrix":
		mx := get(get(n, "strategy"), "matrix")
		if inc := get(mx, "include"); inc != nil {
			for _, e := range inc.Content {
				out = append(out, stackRun{get(e, m[2]).Value, runsOn(func(k string) string { return get(e, k).Value })})
			}
		} else {
			for _, v := range matrixValues(n, m[2]) {
				out = append(out, stackRun{v, runsOn(func(string) string { return "" })})
			}
		}
	default:
		// review-pr${{ … }}: a review stack.
		out = append(out, stackRun{regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(st.Value, "1"), runsOn(func(string) string { return "" })})
	}
	return out
}

// privateAPI says whether a stack's cluster API server is private: its
// stack file sets sluice:aksPrivateApiServer true. Review and dev-* stacks
// use dev's file.
func privateAPI(t *testing.T, stack string) bool {
	t.Helper()
	l, err := trust.StackLevel(stack)
	if err != nil {
		t.Fatalf("stack %s: %v", stack, err)
	}
	file := filepath.Join(roottest.Root(t), "stacks", "Pulumi."+string(l)+".yaml")
	if l == trust.Review {
		file = filepath.Join(roottest.Root(t), "stacks", "Pulumi.dev.yaml")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	v, _ := doc.Config["sluice:aksPrivateApiServer"].(bool)
	return v
}

// TestJobsSignInAsTheirOwnIdentity: each job that signs in uses exactly the
// identities that trust the subjects its token carries, so no job can sign
// in as an identity it was not meant to be, and every identity is used.
func TestJobsSignInAsTheirOwnIdentity(t *testing.T) {
	used := map[trust.Level]bool{}
	for _, j := range jobs(t) {
		var want, got []string
		for _, s := range j.subjects {
			id, ok := trust.BySubject(s)
			if !ok {
				t.Errorf("%s: its token's subject %s is trusted by no identity of the plan", j.id(), s)
				continue
			}
			want = append(want, id.ClientIDVar)
			used[id.Level] = true
		}
		got = append(got, j.clientVars...)
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(slices.Compact(want), slices.Compact(got)) {
			t.Errorf("%s: subjects %v want client ids %v, signs in with %v", j.id(), j.subjects, want, got)
		}
		// A pull request never previews or deploys prod, whatever it signs in as.
		for _, s := range j.subjects {
			if s == "pull_request" || s == "environment:review" {
				for stack := range j.stacks {
					if l, _ := trust.StackLevel(stack); l == trust.Prod || l == trust.Staging && s == "environment:review" {
						t.Errorf("%s: pull-request code touches %s", j.id(), stack)
					}
				}
			}
		}
	}
	for _, id := range trust.Plan() {
		if !used[id.Level] {
			t.Errorf("no job signs in as the %s identity", id.Level)
		}
	}
}

// TestClusterJobsHaveTheirPath: every job that touches a cluster installs the
// pinned Pulumi CLI (built from the module infra/delivery/pulumi-cli, its build
// cache keyed on that go.sum; never the release archive, which has no pinned
// digest) and kubelogin before it, never an unpinned download, and runs on the
// in-VNet runner for a stack whose API server is private.
func TestClusterJobsHaveTheirPath(t *testing.T) {
	n := 0
	for _, j := range jobs(t) {
		if len(j.stacks) == 0 {
			continue
		}
		n++
		var installed, kube, pul bool
		var cached []string // paths of caches keyed on the CLI's go.sum, so far
		for _, s := range get(j.node, "steps").Content {
			r := get(s, "run")
			if r == nil {
				u := get(s, "uses")
				if u != nil && unpinnedRE.MatchString(u.Value) {
					t.Errorf("%s: %s installs a tool without a pinned checksum", j.id(), u.Value)
				}
				if u != nil && strings.HasPrefix(u.Value, "actions/cache@") && strings.Contains(nodeText(get(get(s, "with"), "key")), cliSumKey) {
					cached = append(cached, strings.TrimPrefix(nodeText(get(get(s, "with"), "path")), "~/"))
				}
				continue
			}
			if unpinnedRE.MatchString(r.Value) {
				t.Errorf("%s: a step downloads a tool without a pinned checksum: %q", j.id(), r.Value)
			}
			if releaseRE.MatchString(r.Value) {
				t.Errorf("%s: installs the Pulumi release archive, which has no pinned digest and fails closed; build it with make pulumi-cli (verified by infra/delivery/pulumi-cli/go.sum)", j.id())
			}
			kube = kube || kubeRE.MatchString(r.Value)
			if pulumiRE.MatchString(r.Value) {
				pul = true
				m := gocacheRE.FindStringSubmatch(r.Value)
				ok := false
				for _, c := range cached {
					ok = ok || m != nil && (m[1] == c || strings.HasPrefix(m[1], strings.TrimSuffix(c, "/")+"/"))
				}
				if !ok {
					t.Errorf("%s: builds the Pulumi CLI without a build cache keyed on %s before it, covering the GOCACHE the step sets (%v, cached %v)", j.id(), cliSumKey, m, cached)
				}
			}
			if clusterRE.MatchString(r.Value) && !(kube && pul) {
				t.Errorf("%s: touches a cluster before installing kubelogin and the Pulumi CLI (make pulumi-cli kubelogin-install)", j.id())
			}
			installed = kube && pul
		}
		if !installed {
			t.Errorf("%s: never installs kubelogin and the Pulumi CLI", j.id())
		}
		for stack, runsOn := range j.stacks {
			if privateAPI(t, stack) && !(slices.Contains(runsOn, "self-hosted") && slices.Contains(runsOn, "sluice-"+stack)) {
				t.Errorf("%s: %s has a private API server but the job runs on %v, not its in-VNet runner [self-hosted, sluice-%s]", j.id(), stack, runsOn, stack)
			}
		}
	}
	if n < 6 {
		t.Errorf("found %d jobs that touch a cluster; preview, drift, deploy, review up/down and teardown are expected", n)
	}
}

// TestDeliveryTable keeps the table in infra/DELIVERY.md equal to the one
// generated from the trust plan and the workflows (-update rewrites it).
func TestDeliveryTable(t *testing.T) {
	byLevel := map[trust.Level][]string{}
	for _, j := range jobs(t) {
		for _, s := range j.subjects {
			label := j.id()
			if c, ok := j.via[s]; ok {
				label = c + " → " + j.id()
			}
			if id, ok := trust.BySubject(s); ok && !slices.Contains(byLevel[id.Level], label) {
				byLevel[id.Level] = append(byLevel[id.Level], label)
			}
		}
	}
	table := Table(byLevel)
	path := filepath.Join(roottest.Root(t), "infra", "DELIVERY.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start, end := strings.Index(doc, TableBegin), strings.Index(doc, TableEnd)
	if start < 0 || end < start {
		t.Fatalf("infra/DELIVERY.md lacks the markers %s … %s", TableBegin, TableEnd)
	}
	have := doc[start+len(TableBegin) : end]
	if have == table {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:start+len(TableBegin)]+table+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the delivery table in infra/DELIVERY.md is out of date; run go test ./infra/delivery/workflows -run TestDeliveryTable -update\n got:\n%s\nwant:\n%s", have, table)
}
