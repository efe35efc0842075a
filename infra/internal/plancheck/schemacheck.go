package plancheck

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// CheckSchema checks every azure-native resource's inputs against the
// schema subset: the token must be known, every input a property of it,
// every required input present, every value of the property's type and
// every enum-typed string one of the enum's values.
func CheckSchema(s *Schema, resources []*mocks.Resource) []Violation {
	var out []Violation
	for _, r := range resources {
		if !isAzure(r) {
			continue
		}
		obj, ok := s.Resources[r.Type]
		if !ok {
			out = append(out, violation("schema", r, "unknown type token %s (not in the provider schema subset; regenerate it with `make azure-schema` if the token is real)", r.Type))
			continue
		}
		if obj.Provider != "" && r.Version != "" && major(r.Version) < major(obj.Provider) {
			out = append(out, violation("schema", r, "token %s exists only from azure-native %s on, the resource pins provider %s", r.Type, obj.Provider, r.Version))
		}
		c := &schemaChecker{s: s, r: r}
		c.object("", obj, r.Inputs)
		out = append(out, c.out...)
	}
	return out
}

func major(v string) string {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v = v[:i]
	}
	return fmt.Sprintf("%04s", v)
}

type schemaChecker struct {
	s   *Schema
	r   *mocks.Resource
	out []Violation
}

func (c *schemaChecker) add(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	c.out = append(c.out, Violation{Check: "schema", Resource: c.r.Type + " " + c.r.Name, Message: msg})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *schemaChecker) object(path string, obj *Object, in resource.PropertyMap) {
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		t, ok := obj.Properties[k]
		if !ok {
			c.add(join(path, k), "unknown property (known: %s)", strings.Join(sortedKeys(obj.Properties), ", "))
			continue
		}
		c.value(join(path, k), t, in[resource.PropertyKey(k)])
	}
	for _, req := range obj.Required {
		v, ok := in[resource.PropertyKey(req)]
		if !ok || v.IsNull() {
			c.add(join(path, req), "required input missing")
		}
	}
}

func sortedKeys(m map[string]*Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// value checks one value; it reports whether the value matched (for
// alternatives).
func (c *schemaChecker) value(path string, t *Type, v resource.PropertyValue) {
	v, known := plain(v)
	if !known || v.IsNull() || t == nil {
		return
	}
	if len(t.OneOf) > 0 {
		for _, alt := range t.OneOf {
			probe := &schemaChecker{s: c.s, r: c.r}
			probe.value(path, alt, v)
			if len(probe.out) == 0 {
				return
			}
		}
		c.add(path, "value matches none of the property's alternatives")
		return
	}
	switch t.Kind {
	case "any":
	case "string":
		if !v.IsString() {
			c.add(path, "want a string, got %s", kind(v))
			return
		}
		if t.Enum != "" && !c.s.inEnum(t.Enum, v.StringValue()) {
			c.add(path, "%q is not a value of %s (%s)", v.StringValue(), t.Enum, strings.Join(c.s.Enums[t.Enum], ", "))
		}
	case "integer":
		if !v.IsNumber() || v.NumberValue() != math.Trunc(v.NumberValue()) {
			c.add(path, "want an integer, got %s", kind(v))
		}
	case "number":
		if !v.IsNumber() {
			c.add(path, "want a number, got %s", kind(v))
		}
	case "boolean":
		if !v.IsBool() {
			c.add(path, "want a boolean, got %s", kind(v))
		}
	case "array":
		if !v.IsArray() {
			c.add(path, "want an array, got %s", kind(v))
			return
		}
		for i, e := range v.ArrayValue() {
			c.value(fmt.Sprintf("%s[%d]", path, i), t.Items, e)
		}
	case "map":
		if !v.IsObject() {
			c.add(path, "want a map, got %s", kind(v))
			return
		}
		for k, e := range v.ObjectValue() {
			c.value(join(path, string(k)), t.Items, e)
		}
	case "object":
		if !v.IsObject() {
			c.add(path, "want an object, got %s", kind(v))
			return
		}
		obj, ok := c.s.Types[t.Ref]
		if !ok {
			c.add(path, "type %s missing from the schema subset", t.Ref)
			return
		}
		c.object(path, obj, v.ObjectValue())
	default:
		c.add(path, "schema kind %q unknown to the checker", t.Kind)
	}
}

func kind(v resource.PropertyValue) string {
	switch {
	case v.IsString():
		return fmt.Sprintf("string %q", v.StringValue())
	case v.IsNumber():
		return fmt.Sprintf("number %v", v.NumberValue())
	case v.IsBool():
		return fmt.Sprintf("boolean %v", v.BoolValue())
	case v.IsArray():
		return "an array"
	case v.IsObject():
		return "an object"
	}
	return v.TypeString()
}
