package plancheck

import (
	"maps"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/contract/envcheck"
)

// unknownValue stands for an environment value unknown at plan time.
const unknownValue = "unknown-at-plan-time"

// workloadOfImage names the workload an image reference runs: the last
// path segment of its repository ("<registry>/api@sha256:…" is api).
func workloadOfImage(image string) string {
	repo := image
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	repo = repo[strings.LastIndex(repo, "/")+1:]
	if i := strings.Index(repo, ":"); i >= 0 {
		repo = repo[:i]
	}
	return repo
}

// CheckContract feeds the environment and arguments of every container
// that runs one of the repository's workload images to that workload's
// own configuration loader (workloads/contract/envcheck).
func CheckContract(resources []*mocks.Resource) []Violation {
	var out []Violation
	for _, r := range resources {
		if !isKube(r) {
			continue
		}
		for _, pod := range podSpecsOf(r) {
			out = append(out, checkPodContract(r, pod)...)
		}
	}
	return out
}

// checkPodContract checks the containers of one pod spec that run a
// workload image: a Go workload's through its own loader, the Spark stream
// job's against the Spark contract (the variables it reads and those it
// requires, which its JUnit tests hold its Settings to).
func checkPodContract(r *mocks.Resource, pod map[string]any) []Violation {
	var out []Violation
	for _, key := range []string{"initContainers", "containers"} {
		list, _ := pod[key].([]any)
		for _, c := range list {
			cm, _ := c.(map[string]any)
			image, _ := cm["image"].(string)
			workload := workloadOfImage(image)
			if workload == deploy.Stream {
				out = append(out, checkSparkEnv(r, cm)...)
				continue
			}
			if !slices.Contains(envcheck.Workloads, workload) {
				continue
			}
			env := map[string]string{}
			vars, _ := cm["env"].([]any)
			for _, v := range vars {
				vm, _ := v.(map[string]any)
				n, _ := vm["name"].(string)
				switch val := vm["value"].(type) {
				case string:
					env[n] = val
				default:
					// valueFrom, or an output unknown at plan time.
					env[n] = unknownValue
				}
			}
			var args []string
			for _, a := range asList(cm["args"]) {
				if s, ok := a.(string); ok {
					args = append(args, s)
				}
			}
			if err := envcheck.LoadArgs(workload, args, env); err != nil {
				out = append(out, violation("contract", r, "container %v: %v", cm["name"], err))
			}
		}
	}
	return out
}

// checkSparkEnv holds a Spark job's container (the stream image runs
// both) to the Spark contract of the job its SparkApplication's mainClass
// names: every variable one the job reads, every required one set, and
// for the enrich job a PostgreSQL address (POSTGRES_URL or POSTGRES_HOST).
func checkSparkEnv(r *mocks.Resource, c map[string]any) []Violation {
	var out []Violation
	sc := contract.Spark()
	job, reads, required := "stream", sc.Env, sc.RequiredEnv
	if mocks.String(r.Inputs, "spec.mainClass") == contract.SparkEnrichClass || mocks.String(r.Inputs, "spec.template.mainClass") == contract.SparkEnrichClass {
		job, reads, required = "enrich", map[string]string{}, sc.EnrichRequiredEnv
		for _, k := range sc.EnrichEnv {
			reads[k] = k
		}
	}
	set := map[string]bool{}
	for _, v := range asList(c["env"]) {
		vm, _ := v.(map[string]any)
		n, _ := vm["name"].(string)
		set[n] = true
		if _, ok := reads[n]; !ok {
			out = append(out, violation("contract", r, "container %v: the %s job does not read %s (its contract lists %s)", c["name"], job, n, strings.Join(slices.Sorted(maps.Keys(reads)), ", ")))
		}
	}
	for _, n := range required {
		if !set[n] {
			out = append(out, violation("contract", r, "container %v: %s is required by the %s job and not set", c["name"], n, job))
		}
	}
	if job == "enrich" && !set[deploy.EnvPostgresURL] && !set[deploy.EnvPostgresHost] {
		out = append(out, violation("contract", r, "container %v: the enrich job needs %s or %s and neither is set", c["name"], deploy.EnvPostgresURL, deploy.EnvPostgresHost))
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }
