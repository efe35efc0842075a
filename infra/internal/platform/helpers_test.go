package platform

import (
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// run is one mocked run of the program for a stack.
type run struct {
	t       *testing.T
	stack   string
	m       *mocks.Monitor
	exports map[string]any
	secrets map[string]bool
	out     *Outputs
}

// stackValues returns the config map of a stack with overrides applied.
func stackValues(t *testing.T, stack string, overrides map[string]string) map[string]string {
	t.Helper()
	root := roottest.Root(t)
	v, err := config.StackValues(root, stack)
	if err != nil {
		t.Fatal(err)
	}
	for k, val := range overrides {
		v[config.Namespace+":"+k] = val
	}
	return v
}

// runStack runs the program as Program does, capturing the exports.
func runStack(t *testing.T, stack string, overrides map[string]string) *run {
	t.Helper()
	r := &run{t: t, stack: stack, exports: map[string]any{}, secrets: map[string]bool{}}
	var (
		mu      sync.Mutex
		applied sync.WaitGroup
	)
	outputs := map[string]pulumi.Output{}
	m, err := mocks.Run(func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx.Stack(), func(k string) (string, bool) { return ctx.GetConfig(k) })
		if err != nil {
			return err
		}
		out, err := Deploy(ctx, cfg)
		if err != nil {
			return err
		}
		r.out = out
		for name, in := range Exports(out) {
			o := pulumi.ToOutput(in)
			outputs[name] = o
			applied.Add(1)
			o.ApplyT(func(v any) any {
				defer applied.Done()
				mu.Lock()
				defer mu.Unlock()
				r.exports[name] = v
				return v
			})
		}
		return nil
	}, stack, stackValues(t, stack, overrides))
	if err != nil {
		t.Fatalf("mocked run of %s: %v", stack, err)
	}
	// Outputs not tied to a resource resolve outside the run's wait group.
	done := make(chan struct{})
	go func() { applied.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: outputs did not resolve", stack)
	}
	for name, o := range outputs {
		r.secrets[name] = pulumi.IsSecret(o)
	}
	r.m = m
	return r
}

func (r *run) all(token string) []*mocks.Resource { return r.m.OfType(token) }

// one returns the single resource of a type, failing otherwise.
func (r *run) one(token string) *mocks.Resource {
	r.t.Helper()
	list := r.all(token)
	if len(list) != 1 {
		r.t.Fatalf("%s: want one %s, found %d", r.stack, token, len(list))
	}
	return list[0]
}

// named returns the resource of a type with a logical name, failing if none.
func (r *run) named(token, name string) *mocks.Resource {
	r.t.Helper()
	for _, res := range r.all(token) {
		if res.Name == name {
			return res
		}
	}
	r.t.Fatalf("%s: no %s named %s", r.stack, token, name)
	return nil
}

func (r *run) byURN(urn string) *mocks.Resource {
	for _, res := range r.m.Resources() {
		if res.URN == urn {
			return res
		}
	}
	return nil
}

// expect checks inputs of a resource by dotted path.
func (r *run) expect(res *mocks.Resource, want map[string]any) {
	r.t.Helper()
	for _, m := range mocks.Mismatches(res, want) {
		r.t.Errorf("%s: %s", r.stack, m)
	}
}

func str(m resource.PropertyMap, path string) string { return mocks.String(m, path) }

func strs(m resource.PropertyMap, path string) []string { return mocks.Strings(m, path) }
