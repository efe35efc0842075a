package platform

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/components/workloads"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

const (
	tJob        = "kubernetes:batch/v1:Job"
	tCronJob    = "kubernetes:batch/v1:CronJob"
	tDeployment = "kubernetes:apps/v1:Deployment"
)

// jobOf returns the Job whose pods carry the workload's name label.
func (r *run) jobOf(workload string) *mocks.Resource {
	r.t.Helper()
	for _, j := range r.all(tJob) {
		labels := mocks.Value(j.Inputs, "spec.template.metadata.labels")
		if labels.IsObject() && labels.ObjectValue()[workloads.NameLabel].StringValue() == workload {
			return j
		}
	}
	r.t.Fatalf("%s: no Job for %s", r.stack, workload)
	return nil
}

func podEnv(res *mocks.Resource, pod string) map[string]string {
	out := map[string]string{}
	for i := 0; ; i++ {
		name := str(res.Inputs, fmt.Sprintf("%s.spec.containers.0.env.%d.name", pod, i))
		if name == "" {
			return out
		}
		out[name] = str(res.Inputs, fmt.Sprintf("%s.spec.containers.0.env.%d.value", pod, i))
	}
}

// TestPostgresPrincipalsAreCreatedInTheCluster: a Job inside the cluster,
// signed in as a dedicated Entra administrator of the server, creates the
// PostgreSQL roles of the migrate identity (schema owner) and of enrich
// before anything logs in; the migration runs as migrate, enrich as enrich.
func TestPostgresPrincipalsAreCreatedInTheCluster(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		identities := map[string]*mocks.Resource{}
		for _, id := range r.all(tIdentity) {
			identities[id.Name] = id
		}
		principal := func(w string) (name, oid string) {
			id := identities["workload-identities-"+w]
			if id == nil {
				t.Fatalf("%s: no identity for %s", stack, w)
			}
			return mocks.String(id.Outputs, "name"), mocks.String(id.Outputs, "principalId")
		}
		adminName, adminOID := principal(workloads.PostgresAdmin)
		migrateName, migrateOID := principal(workloads.Migrate)
		enrichName, enrichOID := principal(workloads.Enrich)
		apiName, apiOID := principal(workloads.API)
		if migrateOID == enrichOID {
			t.Fatalf("%s: migrate and enrich share an identity", stack)
		}

		var admin *mocks.Resource
		for _, a := range r.all(tPgAdmin) {
			if str(a.Inputs, "objectId") == adminOID {
				admin = a
			}
		}
		if admin == nil {
			t.Fatalf("%s: the postgres-admin identity is no Entra administrator of the server", stack)
		}
		r.expect(admin, map[string]any{"principalName": adminName, "principalType": "ServicePrincipal"})

		job := r.jobOf(workloads.Principals)
		r.expect(job, map[string]any{
			"spec.template.spec.serviceAccountName":  workloads.PostgresAdmin,
			"spec.template.spec.containers.0.args.0": "-principals",
		})
		env := podEnv(job, "spec.template")
		for k, v := range map[string]string{
			"POSTGRES_USER":                       adminName,
			"POSTGRES_AUTH":                       "entra",
			"POSTGRES_DATABASE":                   "sluice",
			"POSTGRES_MIGRATE_PORT":               "5432",
			deploy.EnvPostgresMigratePrincipal:    migrateName,
			deploy.EnvPostgresMigratePrincipalOID: migrateOID,
			deploy.EnvPostgresEnrichPrincipal:     enrichName,
			deploy.EnvPostgresEnrichPrincipalOID:  enrichOID,
			deploy.EnvPostgresAPIPrincipal:        apiName,
			deploy.EnvPostgresAPIPrincipalOID:     apiOID,
		} {
			if env[k] != v {
				t.Errorf("%s: principals Job %s = %q, want %q", stack, k, env[k], v)
			}
		}
		// It waits for what it logs in to and through.
		server := r.one(tServer)
		needs := append([]*mocks.Resource{admin, r.one(tPgDatabase)}, r.all(tPgConfig)...)
		needs = append(needs, r.targeting(tEndpoint, "privateLinkServiceConnections.0.privateLinkServiceId", server.ID)...)
		for _, n := range needs {
			if !r.dependsOn(job, n) {
				t.Errorf("%s: the principals Job does not wait for %s", stack, label(n))
			}
		}
		for _, fic := range r.all(tFederation) {
			if str(fic.Inputs, "subject") == "system:serviceaccount:sluice:"+workloads.PostgresAdmin && !r.dependsOn(job, fic) {
				t.Errorf("%s: the principals Job does not wait for its federated credential", stack)
			}
		}

		migrate := r.jobOf(workloads.Migrate)
		if !r.dependsOn(migrate, job) {
			t.Errorf("%s: the migration does not wait for the principals Job", stack)
		}
		r.expect(migrate, map[string]any{"spec.template.spec.serviceAccountName": workloads.Migrate})
		if got := podEnv(migrate, "spec.template")["POSTGRES_USER"]; got != migrateName {
			t.Errorf("%s: migrate logs in as %q, want the migrate identity %q", stack, got, migrateName)
		}
		cron := r.one(tCronJob)
		if got := podEnv(cron, "spec.jobTemplate.spec.template")["POSTGRES_USER"]; got != enrichName {
			t.Errorf("%s: enrich logs in as %q, want %q", stack, got, enrichName)
		}
		// The api's report page reads as the api identity, after the
		// principals Job made it a report reader, on enrich's port
		// (PgBouncer's where the stack has it).
		var api *mocks.Resource
		for _, d := range r.all(tDeployment) {
			if str(d.Inputs, "metadata.name") == workloads.API {
				api = d
			}
		}
		if api == nil {
			t.Fatalf("%s: no api Deployment", stack)
		}
		apiEnv := podEnv(api, "spec.template")
		enrichPort := podEnv(cron, "spec.jobTemplate.spec.template")["POSTGRES_PORT"]
		if apiEnv["POSTGRES_USER"] != apiName || apiEnv["POSTGRES_AUTH"] != "entra" || apiEnv["POSTGRES_PORT"] != enrichPort || enrichPort == "" {
			t.Errorf("%s: the api signs in to PostgreSQL as %q (%s) on port %s, want %q with entra on port %s",
				stack, apiEnv["POSTGRES_USER"], apiEnv["POSTGRES_AUTH"], apiEnv["POSTGRES_PORT"], apiName, enrichPort)
		}
		if !r.dependsOn(api, job) {
			t.Errorf("%s: the api does not wait for the principals Job that creates its role", stack)
		}
		var subjects []string
		for _, fic := range r.all(tFederation) {
			subjects = append(subjects, str(fic.Inputs, "subject"))
		}
		for _, sa := range []string{workloads.Migrate, workloads.PostgresAdmin} {
			if !slices.Contains(subjects, "system:serviceaccount:sluice:"+sa) {
				t.Errorf("%s: no federated credential for service account %s", stack, sa)
			}
		}
	}
}

// Report readers from the stack config (a Power BI users' group, say) reach
// the principals Job as the JSON migrate parses, and only there.
func TestReportReadersReachThePrincipalsJob(t *testing.T) {
	group := "11111111-2222-3333-4444-555555555555"
	r := runStack(t, "prod", map[string]string{"postgresReportReaders": `["group:` + group + `:Sluice Report Readers"]`})
	env := podEnv(r.jobOf(workloads.Principals), "spec.template")
	readers, err := deploy.ParseReportReaders(env[deploy.EnvPostgresReportReaders])
	if err != nil {
		t.Fatal(err)
	}
	want := []deploy.Principal{{Name: "Sluice Report Readers", ObjectID: group, Type: "group"}}
	if !slices.Equal(readers, want) {
		t.Fatalf("%s = %v, want %v", deploy.EnvPostgresReportReaders, readers, want)
	}
	if v := podEnv(runStack(t, "prod", nil).jobOf(workloads.Principals), "spec.template")[deploy.EnvPostgresReportReaders]; v != "" {
		t.Fatalf("without readers the Job gets %q", v)
	}
}
