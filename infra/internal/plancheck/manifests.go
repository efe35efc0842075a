package plancheck

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/internal/crdschema"
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
			if err := crdschema.DecodeStrict(m, newObj()); err != nil {
				out = append(out, violation("manifests", r, "%s %s does not decode into k8s.io/api: %v", apiVersion, kind, err))
			}
			continue
		}
		crd, version, err := crds.Find(apiVersion, kind)
		if err != nil {
			out = append(out, violation("manifests", r, "%v", err))
			continue
		}
		for _, p := range crd.Validate(version, m) {
			out = append(out, violation("manifests", r, "%s %s (CRD %s): %s", apiVersion, kind, crd.Source(), p))
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
		if err := crdschema.DecodeStrict(t, &corev1.PodTemplateSpec{}); err != nil {
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

// CRDs are the published CRDs the manifests check validates custom
// resources against.
type CRDs = crdschema.CRDs

// LoadCRDs reads every CRD in dirs (YAML, several documents a file).
func LoadCRDs(dirs ...string) (*CRDs, error) { return crdschema.Load(dirs...) }
