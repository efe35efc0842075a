package plancheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// Violation is one rule a plan breaks.
type Violation struct {
	// Check is the check that found it: schema, names, order, manifests or
	// contract.
	Check string `json:"check"`
	// Resource is the type token and logical name ("<token> <name>").
	Resource string `json:"resource"`
	Message  string `json:"message"`
}

func (v Violation) String() string { return fmt.Sprintf("[%s] %s: %s", v.Check, v.Resource, v.Message) }

func violation(check string, r *mocks.Resource, format string, args ...any) Violation {
	return Violation{Check: check, Resource: r.Type + " " + r.Name, Message: fmt.Sprintf(format, args...)}
}

// Sort orders violations by check, resource and message.
func Sort(vs []Violation) {
	sort.Slice(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return a.Message < b.Message
	})
}

// isAzure tells whether a resource is an azure-native custom resource.
func isAzure(r *mocks.Resource) bool { return r.Custom && strings.HasPrefix(r.Type, "azure-native:") }

// isKube tells whether a resource is a Kubernetes object.
func isKube(r *mocks.Resource) bool { return r.Custom && strings.HasPrefix(r.Type, "kubernetes:") }

// plain unwraps secrets and known outputs; ok is false for values unknown
// at plan time (computed), which no check can judge.
func plain(v resource.PropertyValue) (resource.PropertyValue, bool) {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsComputed():
			return v, false
		case v.IsOutput():
			o := v.OutputValue()
			if !o.Known {
				return v, false
			}
			v = o.Element
		default:
			return v, true
		}
	}
}

// toAny converts a property value to plain Go values (map[string]any,
// []any, string, float64, bool, nil); unknown values become unknown.
func toAny(v resource.PropertyValue, unknown any) any {
	v, ok := plain(v)
	if !ok {
		return unknown
	}
	switch {
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)] = toAny(e, unknown)
		}
		return out
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, toAny(e, unknown))
		}
		return out
	case v.IsString():
		return v.StringValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsBool():
		return v.BoolValue()
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	}
	return nil
}

func keyOf(s string) resource.PropertyKey { return resource.PropertyKey(s) }

// wrap is a resource's inputs as one object value.
func wrap(r *mocks.Resource) resource.PropertyValue { return resource.NewObjectProperty(r.Inputs) }
