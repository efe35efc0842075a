package plancheck

import (
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

func TestManifestsDecodeStrictly(t *testing.T) {
	c := crds(t)
	good := res("kubernetes:apps/v1:Deployment", "api", map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "api", "labels": map[string]any{"app": "api"}},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "api"}},
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
				"name": "api", "image": "x", "ports": []any{map[string]any{"containerPort": 8080}},
				"livenessProbe": map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": "http"}},
			}}}}},
	}, nil)
	none(t, CheckManifests(c, []*mocks.Resource{good}))
	typo := res("kubernetes:apps/v1:Deployment", "typo", map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "typo"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
			"name": "api", "image": "x", "envv": []any{}}}}}},
	}, nil)
	want(t, CheckManifests(c, []*mocks.Resource{typo}), "manifests", "Deployment typo", `unknown field "envv"`)
	wrongType := res("kubernetes:core/v1:Service", "svc", map[string]any{
		"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "svc"},
		"spec": map[string]any{"ports": []any{map[string]any{"port": "eighty"}}},
	}, nil)
	want(t, CheckManifests(c, []*mocks.Resource{wrongType}), "manifests", "Service svc", "cannot unmarshal")
}

func scaledObject(name string, spec map[string]any) *mocks.Resource {
	return res("kubernetes:keda.sh/v1alpha1:ScaledObject", name, map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": map[string]any{"name": name, "namespace": "sluice"}, "spec": spec,
	}, nil)
}

func TestCustomResourcesAgainstPublishedCRDs(t *testing.T) {
	c := crds(t)
	spec := func(trigger map[string]any) map[string]any {
		return map[string]any{"scaleTargetRef": map[string]any{"name": "ingest"}, "minReplicaCount": 1, "triggers": []any{trigger}}
	}
	good := scaledObject("good", spec(map[string]any{"type": "metrics-api", "metricType": "AverageValue", "metadata": map[string]any{"url": "http://x"}}))
	none(t, CheckManifests(c, []*mocks.Resource{good}))
	vs := CheckManifests(c, []*mocks.Resource{
		scaledObject("unknown", spec(map[string]any{"type": "metrics-api", "metricTyp": "AverageValue", "metadata": map[string]any{}})),
		scaledObject("enum", map[string]any{"scaleTargetRef": map[string]any{"name": "ingest"}, "triggers": []any{},
			"advanced": map[string]any{"scalingModifiers": map[string]any{"formula": "a", "metricType": "Average"}}}),
		scaledObject("required", map[string]any{"triggers": []any{}}),
		scaledObject("type", spec(map[string]any{"type": "metrics-api", "metadata": map[string]any{}, "useCachedMetrics": "yes"})),
	})
	want(t, vs, "manifests", "ScaledObject unknown", "spec.triggers[0].metricTyp: unknown field")
	want(t, vs, "manifests", "ScaledObject enum", "spec.advanced.scalingModifiers.metricType: Average is not one of")
	want(t, vs, "manifests", "ScaledObject required", "spec.scaleTargetRef: required field missing")
	want(t, vs, "manifests", "ScaledObject type", "useCachedMetrics: want a boolean")
	spc := res("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "spc", map[string]any{
		"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass", "metadata": map[string]any{"name": "spc"},
		"spec": map[string]any{"provider": "azure", "parameters": map[string]any{"keyvaultName": "kv"}, "secretObject": []any{}},
	}, nil)
	want(t, CheckManifests(c, []*mocks.Resource{spc}), "manifests", "SecretProviderClass spc", "spec.secretObject: unknown field")
	old := res("kubernetes:keda.sh/v1beta9:ScaledObject", "old", map[string]any{"apiVersion": "keda.sh/v1beta9", "kind": "ScaledObject", "metadata": map[string]any{"name": "old"}}, nil)
	want(t, CheckManifests(c, []*mocks.Resource{old}), "manifests", "version v1beta9 is not served")
}
