package platform

import (
	"testing"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/workloads"
	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// TestReferenceDataIsSeeded: a fresh stack gets the device models and the
// sites and devices tables from a Job (seeding only what is empty), after
// the schema exists and before enrich runs, as an identity that may write
// the reference container; sluice:seedReferenceData=false leaves both to
// the user.
func TestReferenceDataIsSeeded(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		job := r.jobOf(workloads.Seed)
		r.expect(job, map[string]any{
			"spec.template.spec.serviceAccountName":  workloads.Migrate,
			"spec.template.spec.containers.0.args.0": "seed",
			"spec.template.spec.containers.0.args.1": "--if-empty",
		})
		env := podEnv(job, "spec.template")
		cron := r.one(tCronJob)
		models := podEnv(cron, "spec.jobTemplate.spec.template")["ENRICH_MODELS_URL"]
		if env["ENRICH_MODELS_URL"] == "" || env["ENRICH_MODELS_URL"] != models {
			t.Errorf("%s: the seed writes %q, enrich reads %q", stack, env["ENRICH_MODELS_URL"], models)
		}
		if img := str(job.Inputs, "spec.template.spec.containers.0.image"); img != str(cron.Inputs, "spec.jobTemplate.spec.template.spec.containers.0.image") {
			t.Errorf("%s: the seed runs %s, not the enrich image", stack, img)
		}
		if !r.dependsOn(job, r.jobOf(workloads.Migrate)) {
			t.Errorf("%s: the seed does not wait for the schema migration", stack)
		}
		if !r.dependsOn(cron, job) {
			t.Errorf("%s: enrich does not wait for the reference data", stack)
		}
		// The seed's identity may write the reference container, and the
		// Job waits for that grant.
		var migrateID string
		for _, id := range r.all(tIdentity) {
			if id.Name == "workload-identities-"+workloads.Migrate {
				migrateID = mocks.String(id.Outputs, "principalId")
			}
		}
		var grant *mocks.Resource
		for _, ra := range r.all(tRole) {
			if str(ra.Inputs, "principalId") == migrateID && str(ra.Inputs, "scope") == r.one(tContainer).ID &&
				str(ra.Inputs, "roleDefinitionId") == "/subscriptions/"+mocks.SubscriptionID+"/providers/Microsoft.Authorization/roleDefinitions/"+base.RoleStorageBlobDataContributor {
				grant = ra
			}
		}
		if grant == nil {
			t.Fatalf("%s: the seed's identity cannot write the reference container", stack)
		}
		if !r.dependsOn(job, grant) {
			t.Errorf("%s: the seed does not wait for its storage grant", stack)
		}
	}
	off := runStack(t, "dev", map[string]string{"seedReferenceData": "false"})
	for _, j := range off.all(tJob) {
		labels := mocks.Value(j.Inputs, "spec.template.metadata.labels")
		if labels.IsObject() && labels.ObjectValue()[workloads.NameLabel].StringValue() == workloads.Seed {
			t.Error("seedReferenceData=false still seeds")
		}
	}
	for _, ra := range off.all(tRole) {
		if str(ra.Inputs, "roleDefinitionId") == "/subscriptions/"+mocks.SubscriptionID+"/providers/Microsoft.Authorization/roleDefinitions/"+base.RoleStorageBlobDataContributor {
			t.Error("seedReferenceData=false still grants write access to the reference container")
		}
	}
}
