package azurenative

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ProviderVersion is the azure-native provider version every wrapper pins;
// it matches the azure-native SDK modules in go.mod.
const ProviderVersion = "2.92.3"

// ResourceOpts prepends the pinned provider version to opts, as the SDK's
// utilities.PkgResourceDefaultOpts does.
func ResourceOpts(opts []pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Version(ProviderVersion)}, opts...)
}

// InvokeOpts prepends the pinned provider version to invoke options.
func InvokeOpts(opts []pulumi.InvokeOption) []pulumi.InvokeOption {
	return append([]pulumi.InvokeOption{pulumi.Version(ProviderVersion)}, opts...)
}

// InputNames returns the wire names (pulumi tags) of the element type of an
// input struct such as a resource's Args, in field order.
func InputNames(in pulumi.Input) []string {
	t := in.ElementType()
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("pulumi"), ",")[0]; tag != "" {
			names = append(names, tag)
		}
	}
	return names
}

// CheckArgs verifies that every field of the input struct in has the Go name
// the SDK generator derives from its wire name (the wire name with an upper
// case first letter) and a counterpart in the element type.
func CheckArgs(in pulumi.Input) error {
	at := reflect.TypeOf(in)
	et := in.ElementType()
	for et.Kind() == reflect.Pointer {
		et = et.Elem()
	}
	var problems []string
	for i := 0; i < at.NumField(); i++ {
		f := at.Field(i)
		ef, ok := et.FieldByName(f.Name)
		if !ok {
			problems = append(problems, f.Name+" has no counterpart in "+et.Name())
			continue
		}
		tag := strings.Split(ef.Tag.Get("pulumi"), ",")[0]
		if tag == "" || strings.ToUpper(tag[:1])+tag[1:] != f.Name {
			problems = append(problems, fmt.Sprintf("field %s carries wire name %q", f.Name, tag))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", at.Name(), strings.Join(problems, "; "))
	}
	return nil
}
