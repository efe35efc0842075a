package crdschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SharedEnv overrides where the shared folder (published CRD schemas under
// schemas/crds) is; by default it is ../shared beside the repository root.
const SharedEnv = "SLUICE_SHARED_DIR"

// Dir is the folder of the published CRDs for the repository at root.
func Dir(root string) string {
	shared := os.Getenv(SharedEnv)
	if shared == "" {
		shared = filepath.Join(root, "..", "shared")
	}
	return filepath.Join(shared, "schemas", "crds")
}

// DecodeStrict decodes v into out, failing on any field out's type does not
// have.
func DecodeStrict(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}

// CRD is one published CustomResourceDefinition.
type CRD struct {
	Group, Kind string
	// Versions maps a served version to its openAPIV3Schema.
	Versions map[string]map[string]any
	source   string
}

// Source is the file the CRD was read from.
func (c *CRD) Source() string { return c.source }

// CRDs are the published CRDs, by "<group>/<kind>".
type CRDs struct {
	byKind map[string]*CRD
	dir    string
}

// Load reads every CRD in dirs (YAML, several documents a file).
func Load(dirs ...string) (*CRDs, error) {
	c := &CRDs{byKind: map[string]*CRD{}, dir: strings.Join(dirs, ", ")}
	for _, dir := range dirs {
		if err := c.load(dir); err != nil {
			return nil, err
		}
	}
	if len(c.byKind) == 0 {
		return nil, fmt.Errorf("published CRDs: none in %s", c.dir)
	}
	return c, nil
}

func (c *CRDs) load(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("published CRDs: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("published CRDs: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("published CRD %s: %w", e.Name(), err)
			}
			if doc["kind"] != "CustomResourceDefinition" {
				continue
			}
			spec, _ := doc["spec"].(map[string]any)
			names, _ := spec["names"].(map[string]any)
			crd := &CRD{Versions: map[string]map[string]any{}, source: e.Name()}
			crd.Group, _ = spec["group"].(string)
			crd.Kind, _ = names["kind"].(string)
			versions, _ := spec["versions"].([]any)
			for _, v := range versions {
				vm, _ := v.(map[string]any)
				if served, _ := vm["served"].(bool); !served {
					continue
				}
				name, _ := vm["name"].(string)
				schema, _ := vm["schema"].(map[string]any)
				open, _ := schema["openAPIV3Schema"].(map[string]any)
				crd.Versions[name] = open
			}
			c.byKind[crd.Group+"/"+crd.Kind] = crd
		}
	}
	return nil
}

// Find returns the CRD of a custom resource and its served version.
func (c *CRDs) Find(apiVersion, kind string) (*CRD, string, error) {
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return nil, "", fmt.Errorf("%s %s: no API type known to the check and not a custom resource", apiVersion, kind)
	}
	crd, ok := c.byKind[group+"/"+kind]
	if !ok {
		return nil, "", fmt.Errorf("%s %s: no k8s.io/api type and no published CRD in %s (add the CRD there)", apiVersion, kind, c.dir)
	}
	if _, ok := crd.Versions[version]; !ok {
		served := make([]string, 0, len(crd.Versions))
		for v := range crd.Versions {
			served = append(served, v)
		}
		sort.Strings(served)
		return nil, "", fmt.Errorf("%s %s: version %s is not served by %s (served: %s)", apiVersion, kind, version, crd.source, strings.Join(served, ", "))
	}
	return crd, version, nil
}

// Validate checks a custom resource against the version's structural
// schema. Objects are closed (unknown fields are errors) unless they say
// x-kubernetes-preserve-unknown-fields or have additionalProperties;
// metadata is decoded strictly into ObjectMeta.
func (c *CRD) Validate(version string, obj map[string]any) []string {
	var problems []string
	schema := c.Versions[version]
	props, _ := schema["properties"].(map[string]any)
	for k, v := range obj {
		switch k {
		case "apiVersion", "kind":
		case "metadata":
			if err := DecodeStrict(v, &metav1.ObjectMeta{}); err != nil {
				problems = append(problems, "metadata: "+err.Error())
			}
		default:
			s, ok := props[k].(map[string]any)
			if !ok {
				problems = append(problems, k+": unknown field")
				continue
			}
			problems = append(problems, validateValue(k, s, v)...)
		}
	}
	for _, req := range stringsOf(schema["required"]) {
		if _, ok := obj[req]; !ok {
			problems = append(problems, req+": required field missing")
		}
	}
	sort.Strings(problems)
	return problems
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func validateValue(path string, s map[string]any, v any) []string {
	if v == nil {
		// Null: unknown at plan time, or explicitly null (which the API
		// server prunes unless nullable).
		return nil
	}
	if b, _ := s["x-kubernetes-int-or-string"].(bool); b {
		switch v.(type) {
		case string, float64:
			return nil
		}
		return []string{fmt.Sprintf("%s: want an integer or a string, got %T", path, v)}
	}
	var problems []string
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
		}
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(problems, fmt.Sprintf("%s: want an object, got %T", path, v))
		}
		props, _ := s["properties"].(map[string]any)
		preserve, _ := s["x-kubernetes-preserve-unknown-fields"].(bool)
		addl, hasAddl := s["additionalProperties"].(map[string]any)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				problems = append(problems, validateValue(path+"."+k, ps, m[k])...)
				continue
			}
			switch {
			case hasAddl:
				problems = append(problems, validateValue(path+"."+k, addl, m[k])...)
			case preserve:
			default:
				problems = append(problems, fmt.Sprintf("%s.%s: unknown field", path, k))
			}
		}
		for _, req := range stringsOf(s["required"]) {
			if _, ok := m[req]; !ok {
				problems = append(problems, fmt.Sprintf("%s.%s: required field missing", path, req))
			}
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return append(problems, fmt.Sprintf("%s: want an array, got %T", path, v))
		}
		items, _ := s["items"].(map[string]any)
		for i, e := range list {
			if items != nil {
				problems = append(problems, validateValue(fmt.Sprintf("%s[%d]", path, i), items, e)...)
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			problems = append(problems, fmt.Sprintf("%s: want a string, got %T", path, v))
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			problems = append(problems, fmt.Sprintf("%s: want an integer, got %v", path, v))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			problems = append(problems, fmt.Sprintf("%s: want a number, got %T", path, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			problems = append(problems, fmt.Sprintf("%s: want a boolean, got %T", path, v))
		}
	case "":
		// No type: anything (x-kubernetes-preserve-unknown-fields or
		// int-or-string handled above).
	}
	return problems
}
