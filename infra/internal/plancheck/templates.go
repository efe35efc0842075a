package plancheck

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// WithTemplates returns the plan's resources with, after each ConfigMap,
// the Kubernetes objects it holds as templates: every data value under a
// ".json" key that is a JSON object with an apiVersion and a kind (the
// enrich job's SparkApplication, which its CronJob creates at run time).
// Each template is checked as the object it becomes: decoded strictly
// against its CRD and its pod templates, its containers held to the
// contract, and ordered after what it needs, since it may be created as
// soon as the ConfigMap exists. A value that is not valid JSON is a
// violation.
func WithTemplates(resources []*mocks.Resource) ([]*mocks.Resource, []Violation) {
	var out []*mocks.Resource
	var vs []Violation
	for _, r := range resources {
		out = append(out, r)
		if r.Type != "kubernetes:core/v1:ConfigMap" {
			continue
		}
		m := dig(Manifest(r), "data")
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			text, ok := m[k].(string)
			if !ok || !strings.HasSuffix(k, ".json") {
				continue
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(text), &obj); err != nil {
				vs = append(vs, violation("manifests", r, "data %s: not a JSON object: %v", k, err))
				continue
			}
			apiVersion, _ := obj["apiVersion"].(string)
			kind, _ := obj["kind"].(string)
			if apiVersion == "" || kind == "" {
				continue
			}
			t := &mocks.Resource{
				URN:    r.URN + "$" + k,
				Type:   "kubernetes:" + tokenVersion(apiVersion) + ":" + kind,
				Name:   r.Name + "/" + k,
				Parent: r.Parent,
				Custom: true,
				Inputs: resource.NewPropertyMapFromMap(obj),
				// Created by a workload once the ConfigMap is there, so
				// after everything the ConfigMap waits for.
				Dependencies: []string{r.URN},
				Provider:     r.Provider,
			}
			out = append(out, t)
		}
	}
	return out, vs
}
