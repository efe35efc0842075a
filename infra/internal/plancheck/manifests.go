package plancheck

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
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// builtinKinds are the Kubernetes API types manifests are decoded into, by
// "<apiVersion>/<kind>".
var builtinKinds = map[string]func() any{
	"v1/Namespace":                                    func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":                               func() any { return &corev1.ServiceAccount{} },
	"v1/Service":                                      func() any { return &corev1.Service{} },
	"v1/ConfigMap":                                    func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                       func() any { return &corev1.Secret{} },
	"v1/Pod":                                          func() any { return &corev1.Pod{} },
	"v1/PersistentVolumeClaim":                        func() any { return &corev1.PersistentVolumeClaim{} },
	"apps/v1/Deployment":                              func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                             func() any { return &appsv1.StatefulSet{} },
	"apps/v1/DaemonSet":                               func() any { return &appsv1.DaemonSet{} },
	"batch/v1/Job":                                    func() any { return &batchv1.Job{} },
	"batch/v1/CronJob":                                func() any { return &batchv1.CronJob{} },
	"policy/v1/PodDisruptionBudget":                   func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":          func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":              func() any { return &networkingv1.NetworkPolicy{} },
	"networking.k8s.io/v1/Ingress":                    func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/IngressClass":               func() any { return &networkingv1.IngressClass{} },
	"rbac.authorization.k8s.io/v1/Role":               func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding":        func() any { return &rbacv1.RoleBinding{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":        func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
}

// Manifest is one Kubernetes object of a plan as plain JSON values; values
// unknown at plan time are null.
func Manifest(r *mocks.Resource) map[string]any {
	m, _ := toAny(wrap(r), nil).(map[string]any)
	return m
}

// decodeStrict decodes v into out, failing on any field out's type does not
// have.
func decodeStrict(v any, out any) error {
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

// CheckManifests decodes every Kubernetes object strictly into its
// k8s.io/api type, and validates custom resources against their CRD's
// published OpenAPI v3 schema.
func CheckManifests(crds *CRDs, resources []*mocks.Resource) []Violation {
	var out []Violation
	for _, r := range resources {
		if !isKube(r) || strings.HasPrefix(r.Type, "kubernetes:helm.sh/") {
			continue
		}
		m := Manifest(r)
		apiVersion, _ := m["apiVersion"].(string)
		kind, _ := m["kind"].(string)
		if apiVersion == "" || kind == "" {
			out = append(out, violation("manifests", r, "no apiVersion or kind"))
			continue
		}
		if want := "kubernetes:" + tokenVersion(apiVersion) + ":" + kind; r.Type != want && r.Type != "kubernetes:apiextensions.k8s.io:CustomResource" && !strings.HasPrefix(r.Type, "kubernetes:"+tokenVersion(apiVersion)+":") {
			out = append(out, violation("manifests", r, "registered as %s but its manifest is %s %s", r.Type, apiVersion, kind))
		}
		if newObj, ok := builtinKinds[apiVersion+"/"+kind]; ok {
			if err := decodeStrict(m, newObj()); err != nil {
				out = append(out, violation("manifests", r, "%s %s does not decode into k8s.io/api: %v", apiVersion, kind, err))
			}
			continue
		}
		crd, version, err := crds.Find(apiVersion, kind)
		if err != nil {
			out = append(out, violation("manifests", r, "%v", err))
			continue
		}
		for _, p := range crd.validate(version, m) {
			out = append(out, violation("manifests", r, "%s %s (CRD %s): %s", apiVersion, kind, crd.source, p))
		}
		out = append(out, checkPodTemplates(r, kind, m)...)
	}
	return out
}

// checkPodTemplates decodes the pod templates a custom resource carries
// strictly: the Spark Operator's CRD leaves a SparkApplication's driver and
// executor templates open (x-kubernetes-preserve-unknown-fields), and Spark
// reads them as Kubernetes pods.
func checkPodTemplates(r *mocks.Resource, kind string, m map[string]any) []Violation {
	if kind != "SparkApplication" && kind != "ScheduledSparkApplication" {
		return nil
	}
	spec := dig(m, "spec")
	if kind == "ScheduledSparkApplication" {
		spec = dig(spec, "template")
	}
	var out []Violation
	for _, role := range []string{"driver", "executor"} {
		t, ok := dig(spec, role)["template"]
		if !ok {
			continue
		}
		if err := decodeStrict(t, &corev1.PodTemplateSpec{}); err != nil {
			out = append(out, violation("manifests", r, "%s %s pod template does not decode into a Kubernetes PodTemplateSpec: %v", kind, role, err))
		}
	}
	return out
}

// tokenVersion is how the Kubernetes provider writes an apiVersion in a
// type token: the core group is "core".
func tokenVersion(apiVersion string) string {
	if !strings.Contains(apiVersion, "/") {
		return "core/" + apiVersion
	}
	return apiVersion
}

// CRD is one published CustomResourceDefinition.
type CRD struct {
	Group, Kind string
	// Versions maps a served version to its openAPIV3Schema.
	Versions map[string]map[string]any
	source   string
}

// CRDs are the published CRDs, by "<group>/<kind>".
type CRDs struct {
	byKind map[string]*CRD
	dir    string
}

// LoadCRDs reads every CRD in dirs (YAML, several documents a file).
func LoadCRDs(dirs ...string) (*CRDs, error) {
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

// validate checks a custom resource against the version's structural
// schema. Objects are closed (unknown fields are errors) unless they say
// x-kubernetes-preserve-unknown-fields or have additionalProperties;
// metadata is decoded strictly into ObjectMeta.
func (c *CRD) validate(version string, obj map[string]any) []string {
	var problems []string
	schema := c.Versions[version]
	props, _ := schema["properties"].(map[string]any)
	for k, v := range obj {
		switch k {
		case "apiVersion", "kind":
		case "metadata":
			if err := decodeStrict(v, &metav1.ObjectMeta{}); err != nil {
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
