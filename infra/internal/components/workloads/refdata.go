package workloads

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Seed is the reference-data seed Job's workload name (its pod label).
const Seed = "seed-reference"

// modelsURL is where enrich reads the device models and the seed writes
// them: the models file in the Data Lake's reference container.
func (d *deployer) modelsURL() pulumi.StringOutput {
	return pulumi.Sprintf("%s%s/%s", d.args.DataLakeDfsEndpoint, d.args.ReferenceContainer, ModelsFile)
}

// seed declares the reference-data Job (sluice:seedReferenceData): `enrich
// seed --if-empty` uploads the device-model Parquet file and fills the sites
// and devices tables with the demo fleet, each only when it is empty, so a
// user's own reference data survives every deployment. It runs as the
// migrate identity, which owns the tables and may write the reference
// container, after the migration; enrich waits for it. It returns nil when
// seeding is off.
func (d *deployer) seed() (pulumi.Resource, error) {
	if !d.cfg.Workloads.SeedReferenceData {
		return nil, nil
	}
	pod := podSpec{
		workload: Seed, serviceAccount: Migrate, image: d.images[Enrich], restartPolicy: "Never",
		args: []string{"seed", "--if-empty"},
		env: join(
			[]envVar{ev(deploy.EnvLogLevel, pulumi.String("info")), ev(deploy.EnvEnrichModelsURL, d.modelsURL())},
			d.postgresEnv(d.args.Identities[Migrate].PrincipalName, d.args.PostgresPort, deploy.EnvPostgresPort),
		),
	}
	return d.job(Seed, pod, 900, "reference data seed job")
}
