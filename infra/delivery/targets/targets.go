package targets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// RegistryType is the type token of the stack's container registry.
const RegistryType = "azure-native:containerregistry:Registry"

type state struct {
	URN                  string              `json:"urn"`
	Type                 string              `json:"type"`
	Parent               string              `json:"parent"`
	Dependencies         []string            `json:"dependencies"`
	PropertyDependencies map[string][]string `json:"propertyDependencies"`
}

type step struct {
	URN      string `json:"urn"`
	NewState *state `json:"newState"`
	OldState *state `json:"oldState"`
}

type preview struct {
	Steps []step `json:"steps"`
}

// RegistryFirst returns the sorted URNs to pass as --target for the
// registries of the plan read from r.
func RegistryFirst(r io.Reader) ([]string, error) {
	return Closure(r, RegistryType)
}

// Closure returns the sorted URNs of the resources of type typ in the plan
// read from r, with their parents and dependencies, transitively.
func Closure(r io.Reader, typ string) ([]string, error) {
	byURN, err := load(r)
	if err != nil {
		return nil, err
	}
	return closure(byURN, typ, func(st *state) bool { return st.Type == typ })
}

// AzureFirst returns the targets of a first, Azure-only update: every Azure
// resource with its parents and dependencies, for a stack whose Kubernetes
// API server only a runner inside its VNet reaches. That update creates the
// runner (and everything else in Azure) from a hosted runner, through Azure
// Resource Manager alone; the full update then runs on the new runner. It
// fails when an Azure resource depends on a Kubernetes object, which the
// Azure-only update could not create. r holds `pulumi preview --json` or
// the offline plan (`make plan STACK=<name>` with -json).
func AzureFirst(r io.Reader) ([]string, error) {
	byURN, err := load(r)
	if err != nil {
		return nil, err
	}
	out, err := closure(byURN, "Azure resource", func(st *state) bool { return strings.HasPrefix(st.Type, "azure-native:") })
	if err != nil {
		return nil, err
	}
	for _, urn := range out {
		if t := byURN[urn].Type; strings.HasPrefix(t, "kubernetes:") {
			return nil, fmt.Errorf("an Azure resource depends on the Kubernetes object %s (%s): an Azure-only update cannot create it", urn, t)
		}
	}
	return out, nil
}

// load reads a plan in either form: the preview's {"steps": [...]} or the
// offline plan's list of resources.
func load(r io.Reader) (map[string]*state, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	byURN := map[string]*state{}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		var list []state
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("read the offline plan json: %w", err)
		}
		for i := range list {
			byURN[list[i].URN] = &list[i]
		}
		return byURN, nil
	}
	var p preview
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("read the preview json: %w", err)
	}
	for _, s := range p.Steps {
		st := s.NewState
		if st == nil {
			st = s.OldState
		}
		if st == nil {
			continue
		}
		if st.URN == "" {
			st.URN = s.URN
		}
		byURN[st.URN] = st
	}
	return byURN, nil
}

// closure is the sorted set of the seeds' URNs with their parents and
// dependencies, transitively, without the stack and providers.
func closure(byURN map[string]*state, what string, seed func(*state) bool) ([]string, error) {
	var todo []string
	for urn, st := range byURN {
		if seed(st) {
			todo = append(todo, urn)
		}
	}
	if len(todo) == 0 {
		return nil, errors.New("the plan has no " + what)
	}
	seen := map[string]bool{}
	for len(todo) > 0 {
		urn := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[urn] || urn == "" {
			continue
		}
		st, ok := byURN[urn]
		if !ok {
			// The root stack or a resource outside the plan: nothing to target.
			continue
		}
		seen[urn] = true
		next := append([]string{st.Parent}, st.Dependencies...)
		for _, deps := range st.PropertyDependencies {
			next = append(next, deps...)
		}
		todo = append(todo, next...)
	}
	var out []string
	for urn := range seen {
		t := byURN[urn].Type
		if t == "pulumi:pulumi:Stack" || strings.HasPrefix(t, "pulumi:providers:") {
			continue
		}
		out = append(out, urn)
	}
	sort.Strings(out)
	return out, nil
}
