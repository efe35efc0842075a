package plancheck

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Schema is the committed subset of the azure-native provider schema: for
// every type token the program registers, its input properties (nested
// object types included), required inputs and enum values. It is generated
// by cmd/azureschema from the provider's published Python SDK (see
// doc.go) and read from testdata/azure-schema.json.
type Schema struct {
	// Source names what the subset was generated from.
	Source []string `json:"source"`
	// Resources by type token.
	Resources map[string]*Object `json:"resources"`
	// Types are the nested object types, by "<module>:<TypeName>".
	Types map[string]*Object `json:"types"`
	// Enums are the enum values, by "<module>:<EnumName>".
	Enums map[string][]string `json:"enums"`
}

// Object is a resource's inputs or a nested object type.
type Object struct {
	// APIVersion is the Azure REST API version of a resource (from the
	// SDK's docstring), empty for types.
	APIVersion string `json:"apiVersion,omitempty"`
	// Provider is the azure-native version whose SDK the resource was
	// read from (resources only).
	Provider   string           `json:"provider,omitempty"`
	Properties map[string]*Type `json:"properties"`
	Required   []string         `json:"required,omitempty"`
}

// Type is the type of one property.
type Type struct {
	// Kind is string, integer, number, boolean, array, map, object or any.
	Kind string `json:"kind"`
	// Ref names the object type (Types) of an object.
	Ref string `json:"ref,omitempty"`
	// Enum names the enum (Enums) a string takes its values from.
	Enum string `json:"enum,omitempty"`
	// Strict is set when the SDK types the value as the enum alone (not
	// "string or enum").
	Strict bool `json:"strict,omitempty"`
	// Items is the element type of an array or map.
	Items *Type `json:"items,omitempty"`
	// OneOf lists alternatives (object types); a value matching one is
	// valid.
	OneOf []*Type `json:"oneOf,omitempty"`
}

//go:embed testdata/azure-schema.json
var schemaJSON []byte

var (
	schemaOnce sync.Once
	schema     *Schema
	schemaErr  error
)

// AzureSchema returns the committed schema subset.
func AzureSchema() (*Schema, error) {
	schemaOnce.Do(func() { schema, schemaErr = ParseSchema(schemaJSON) })
	return schema, schemaErr
}

// ParseSchema decodes a schema subset.
func ParseSchema(b []byte) (*Schema, error) {
	var s Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse azure schema: %w", err)
	}
	if s.Resources == nil {
		return nil, fmt.Errorf("parse azure schema: no resources")
	}
	return &s, nil
}

// Tokens returns the resource tokens of the schema, sorted.
func (s *Schema) Tokens() []string {
	out := make([]string, 0, len(s.Resources))
	for t := range s.Resources {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (s *Schema) inEnum(name, v string) bool {
	for _, e := range s.Enums[name] {
		// Resource providers generally compare enum values without
		// regard to case; a check must not flag what Azure accepts.
		if strings.EqualFold(e, v) {
			return true
		}
	}
	return false
}
