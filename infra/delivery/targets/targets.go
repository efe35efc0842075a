package targets

import (
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
	var p preview
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("read the preview json: %w", err)
	}
	byURN := map[string]*state{}
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
	var todo []string
	for urn, st := range byURN {
		if st.Type == typ {
			todo = append(todo, urn)
		}
	}
	if len(todo) == 0 {
		return nil, errors.New("the plan has no " + typ)
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
