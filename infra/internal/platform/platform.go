package platform

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/resources/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/aks"
	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/cosmos"
	"github.com/sluicehq/sluice/infra/internal/components/datalake"
	"github.com/sluicehq/sluice/infra/internal/components/eventhubs"
	"github.com/sluicehq/sluice/infra/internal/components/identity"
	"github.com/sluicehq/sluice/infra/internal/components/keyvault"
	"github.com/sluicehq/sluice/infra/internal/components/monitoring"
	"github.com/sluicehq/sluice/infra/internal/components/network"
	"github.com/sluicehq/sluice/infra/internal/components/postgres"
	"github.com/sluicehq/sluice/infra/internal/components/redis"
	"github.com/sluicehq/sluice/infra/internal/components/registry"
	"github.com/sluicehq/sluice/infra/internal/components/runner"
	"github.com/sluicehq/sluice/infra/internal/components/workloads"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Workload names (DESIGN.md). The simulator only runs locally.
const (
	Ingest     = deploy.Ingest
	Changefeed = deploy.Changefeed
	API        = deploy.API
	Enrich     = deploy.Enrich
	// Migrate owns the PostgreSQL schema; PostgresAdmin is the Entra
	// administrator identity that creates the workloads' PostgreSQL roles
	// from inside the cluster (see workloads.PostgresAdmin).
	Migrate       = deploy.Migrate
	PostgresAdmin = "postgres-admin"
)

// KafkaReaders are the consumer groups on the events hub.
var KafkaReaders = []string{Ingest, Changefeed}

// WorkloadIdentity is what a workload's pod needs to authenticate.
type WorkloadIdentity struct {
	// ClientID goes in the service account's azure.workload.identity/client-id
	// annotation.
	ClientID pulumi.StringOutput
	// PrincipalName is the identity's name; enrich's is its PostgreSQL role.
	PrincipalName pulumi.StringOutput
	// PrincipalID is the identity's object id (its PostgreSQL principal).
	PrincipalID    pulumi.StringOutput
	ServiceAccount string
}

// Outputs are the endpoints and identities the workloads need. None is a
// secret.
type Outputs struct {
	ResourceGroupName pulumi.StringOutput
	TenantID          string

	AKSClusterName   pulumi.StringOutput
	AKSOIDCIssuerURL pulumi.StringOutput
	// KubernetesNamespace is where the workloads' service accounts live.
	KubernetesNamespace string

	KafkaBootstrap pulumi.StringOutput
	EventsTopic    string
	DLQTopic       string

	CassandraContactPoint pulumi.StringOutput
	CassandraPort         int
	CassandraUsername     pulumi.StringOutput
	// CassandraKeySecretName names the Key Vault secret with the password;
	// CassandraReadOnlyKeySecretName the read-only one (api, enrich).
	CassandraKeySecretName         string
	CassandraReadOnlyKeySecretName string

	PostgresHost     pulumi.StringOutput
	PostgresPort     pulumi.IntOutput
	PostgresDatabase string

	RedisHost pulumi.StringOutput
	RedisPort pulumi.IntOutput

	KeyVaultURI  pulumi.StringOutput
	KeyVaultName pulumi.StringOutput

	ACRLoginServer pulumi.StringOutput

	DataLakeDfsEndpoint pulumi.StringOutput
	ReferenceContainer  string

	// PowerBIGatewaySubnetID is the subnet to create a Power BI VNet data
	// gateway on; nil without sluice:powerBIGatewaySubnetCidr.
	PowerBIGatewaySubnetID pulumi.StringOutput

	// Identities maps a workload name to its identity.
	Identities map[string]WorkloadIdentity
}

// Program is the Pulumi program: it validates the stack's configuration
// before declaring anything, deploys, and exports Outputs.
func Program(ctx *pulumi.Context) error {
	cfg, err := config.Load(ctx.Stack(), func(key string) (string, bool) { return ctx.GetConfig(key) })
	if err != nil {
		return err
	}
	// Delivery hands the images `make images` built and pushed over as a
	// file; they win over the stack's configured images.
	if path := os.Getenv(config.ImagesFileEnv); path != "" {
		if err := config.ApplyImagesFile(cfg, path); err != nil {
			return err
		}
	}
	out, err := Deploy(ctx, cfg)
	if err != nil {
		return err
	}
	for name, value := range Exports(out) {
		ctx.Export(name, value)
	}
	return nil
}

// Exports are the stack outputs, by name.
func Exports(o *Outputs) map[string]pulumi.Input {
	ex := map[string]pulumi.Input{
		"resourceGroupName":      o.ResourceGroupName,
		"tenantId":               pulumi.String(o.TenantID),
		"aksClusterName":         o.AKSClusterName,
		"aksOidcIssuerUrl":       o.AKSOIDCIssuerURL,
		"kubernetesNamespace":    pulumi.String(o.KubernetesNamespace),
		"kafkaBootstrap":         o.KafkaBootstrap,
		"eventsTopic":            pulumi.String(o.EventsTopic),
		"dlqTopic":               pulumi.String(o.DLQTopic),
		"cassandraContactPoint":  o.CassandraContactPoint,
		"cassandraPort":          pulumi.Int(o.CassandraPort),
		"cassandraUsername":      o.CassandraUsername,
		"cassandraKeySecretName": pulumi.String(o.CassandraKeySecretName),
		"postgresHost":           o.PostgresHost,
		"postgresPort":           o.PostgresPort,
		"postgresDatabase":       pulumi.String(o.PostgresDatabase),
		"redisHost":              o.RedisHost,
		"redisPort":              o.RedisPort,
		"keyVaultUri":            o.KeyVaultURI,
		"keyVaultName":           o.KeyVaultName,
		"acrLoginServer":         o.ACRLoginServer,
		"dataLakeDfsEndpoint":    o.DataLakeDfsEndpoint,
		"referenceContainer":     pulumi.String(o.ReferenceContainer),
	}
	if o.PowerBIGatewaySubnetID != (pulumi.StringOutput{}) {
		ex["powerBIGatewaySubnetId"] = o.PowerBIGatewaySubnetID
	}
	for name, id := range o.Identities {
		ex[name+"ClientId"] = id.ClientID
		ex[name+"PrincipalName"] = id.PrincipalName
	}
	return ex
}

// Deploy declares the platform for a validated configuration.
func Deploy(ctx *pulumi.Context, cfg *config.Config) (*Outputs, error) {
	client, err := authorization.GetClientConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("read client config: %w", err)
	}
	env := &base.Env{
		Config:           cfg,
		SubscriptionID:   client.SubscriptionId,
		TenantID:         client.TenantId,
		DeployerObjectID: client.ObjectId,
	}
	rg, err := resources.NewResourceGroup(ctx, "rg", &resources.ResourceGroupArgs{
		ResourceGroupName: pulumi.String("rg-sluice-" + cfg.Stack),
		Location:          env.Location(),
		Tags:              env.Tags(),
	})
	if err != nil {
		return nil, fmt.Errorf("resource group: %w", err)
	}
	env.ResourceGroupName = rg.Name

	// The workspace comes first: every later component sends its
	// diagnostics there (monitoring.New sets env.WorkspaceID).
	if _, err := monitoring.New(ctx, "monitoring", env); err != nil {
		return nil, err
	}
	net, err := network.New(ctx, "network", env)
	if err != nil {
		return nil, err
	}
	env.VNetID = net.VNetID
	env.PrivateEndpointsSubnetID = net.PrivateEndpointsSubnetID

	vault, err := keyvault.New(ctx, "kv-sluice", env)
	if err != nil {
		return nil, err
	}
	// The deploy runner is declared early: a first deploy of a stack with a
	// private API server creates it (and what it needs) with a targeted up
	// before the rest of the stack (package runner).
	if cfg.DeployRunner.Enabled {
		if _, err := runner.New(ctx, "deploy-runner", env, runner.Args{
			SubnetID: net.DeployRunnerSubnetID, Subnet: net.DeployRunnerSubnet,
			VaultName: vault.VaultName, VaultURI: vault.VaultURI,
		}); err != nil {
			return nil, err
		}
	}
	hubs, err := eventhubs.New(ctx, "evhns-sluice", env, eventhubs.Args{Readers: KafkaReaders})
	if err != nil {
		return nil, err
	}
	cas, err := cosmos.New(ctx, "cosmos-sluice", env, cosmos.Args{VaultName: vault.VaultName, VaultURI: vault.VaultURI})
	if err != nil {
		return nil, err
	}
	acr, err := registry.New(ctx, "acrsluice", env)
	if err != nil {
		return nil, err
	}
	lake, err := datalake.New(ctx, "stsluice", env)
	if err != nil {
		return nil, err
	}
	pg, err := postgres.New(ctx, "psql-sluice", env)
	if err != nil {
		return nil, err
	}
	cache, err := redis.New(ctx, "redis-sluice", env)
	if err != nil {
		return nil, err
	}
	cluster, err := aks.New(ctx, "aks-sluice", env, aks.Args{NodesSubnetID: net.AKSNodesSubnetID, RegistryID: acr.RegistryID, KeyVaultID: vault.VaultID})
	if err != nil {
		return nil, err
	}
	redisAccess := func(alias string) func(*pulumi.Context, string, pulumi.StringInput) error {
		return func(ctx *pulumi.Context, name string, principalID pulumi.StringInput) error {
			return cache.GrantDataAccess(ctx, name, principalID, alias)
		}
	}
	// The workloads that only read Cassandra get the read-only key.
	secretsUser := identity.Grant{Label: "cosmos-key-reader", Role: base.RoleKeyVaultSecretsUser, Scope: cas.KeySecretID}
	readOnlyUser := identity.Grant{Label: "cosmos-readonly-key-reader", Role: base.RoleKeyVaultSecretsUser, Scope: cas.ReadOnlyKeySecretID}
	keyUser := func(workload string) identity.Grant {
		if deploy.CassandraReadOnly(workload) {
			return readOnlyUser
		}
		return secretsUser
	}
	workloadIDs := []identity.Workload{
		{Name: Ingest, Grants: []identity.Grant{
			{Label: "events-receiver", Role: base.RoleEventHubsDataReceiver, Scope: hubs.EventsHubID},
			{Label: "dlq-sender", Role: base.RoleEventHubsDataSender, Scope: hubs.DLQHubID},
			keyUser(Ingest),
		}},
		{Name: Changefeed, Grants: []identity.Grant{keyUser(Changefeed)}, DataAccess: []func(*pulumi.Context, string, pulumi.StringInput) error{redisAccess(Changefeed)}},
		{Name: API, Grants: []identity.Grant{keyUser(API)}, DataAccess: []func(*pulumi.Context, string, pulumi.StringInput) error{redisAccess(API)}},
		// enrich logs in to PostgreSQL as its identity: the role is
		// created in the database (pgaadauth_create_principal_with_oid)
		// by the principals Job, not by ARM, so it gets no
		// administrator rights here.
		{Name: Enrich, Grants: []identity.Grant{
			keyUser(Enrich),
			{Label: "reference-reader", Role: base.RoleStorageBlobDataReader, Scope: lake.ContainerID},
		}, AlsoServiceAccounts: sparkEnrichAccounts(cfg)},
		{Name: Migrate, Grants: seedGrants(cfg, lake.ContainerID)},
		{Name: PostgresAdmin},
	}
	// The stream job reads the events hub (its own Kafka consumer group,
	// named by its group prefix) and writes its aggregates to Cosmos DB.
	if cfg.Spark.Stream {
		workloadIDs = append(workloadIDs, identity.Workload{Name: deploy.Stream, Grants: []identity.Grant{
			{Label: "events-receiver", Role: base.RoleEventHubsDataReceiver, Scope: hubs.EventsHubID},
			keyUser(deploy.Stream),
		}})
	}
	ids, err := identity.New(ctx, "workload-identities", env, identity.Args{
		Namespace: cfg.KubernetesNamespace,
		Issuer:    cluster.OIDCIssuerURL,
		Workloads: workloadIDs,
	})
	if err != nil {
		return nil, err
	}
	pgAdmin := ids.ByWorkload[PostgresAdmin]
	if _, err := pg.AddAdministrator(ctx, PostgresAdmin, pgAdmin.PrincipalID, pgAdmin.Name); err != nil {
		return nil, err
	}
	out := &Outputs{
		ResourceGroupName:              rg.Name,
		TenantID:                       env.TenantID,
		AKSClusterName:                 cluster.ClusterName,
		AKSOIDCIssuerURL:               cluster.OIDCIssuerURL,
		KubernetesNamespace:            cfg.KubernetesNamespace,
		KafkaBootstrap:                 hubs.KafkaBootstrap,
		EventsTopic:                    eventhubs.EventsHub,
		DLQTopic:                       eventhubs.DLQHub,
		CassandraContactPoint:          cas.ContactPoint,
		CassandraPort:                  cosmos.CassandraPort,
		CassandraUsername:              cas.AccountName,
		CassandraKeySecretName:         cosmos.KeySecretName,
		CassandraReadOnlyKeySecretName: cosmos.ReadOnlyKeySecretName,
		PostgresHost:                   pg.Host,
		PostgresPort:                   pg.Port,
		PostgresDatabase:               postgres.Database,
		RedisHost:                      cache.Host,
		RedisPort:                      cache.Port,
		KeyVaultURI:                    vault.VaultURI,
		KeyVaultName:                   vault.VaultName,
		ACRLoginServer:                 acr.LoginServer,
		DataLakeDfsEndpoint:            lake.DfsEndpoint,
		ReferenceContainer:             datalake.ReferenceContainer,
		PowerBIGatewaySubnetID:         net.PowerBIGatewaySubnetID,
		Identities:                     map[string]WorkloadIdentity{},
	}
	for name, id := range ids.ByWorkload {
		out.Identities[name] = WorkloadIdentity{ClientID: id.ClientID, PrincipalName: id.Name, PrincipalID: id.PrincipalID, ServiceAccount: id.ServiceAccount}
	}
	// The workloads wait for what they use, not only for their identities.
	needs := append([]pulumi.Resource{cluster.UserPool}, ids.Resources...)
	needs = append(needs, pg.Ready()...)
	needs = append(needs, cas.Ready...)
	needs = append(needs, cache.Ready()...)
	if cluster.IngressCertificateAccess != nil {
		needs = append(needs, cluster.IngressCertificateAccess)
	}
	if err := deployWorkloads(ctx, cfg, out, cluster, needs); err != nil {
		return nil, err
	}
	return out, nil
}

// seedGrants are the migrate identity's roles beyond PostgreSQL: it also
// runs the reference-data seed, which writes the reference container.
func seedGrants(cfg *config.Config, container pulumi.StringInput) []identity.Grant {
	if !cfg.Workloads.SeedReferenceData {
		return nil
	}
	return []identity.Grant{{Label: "reference-writer", Role: base.RoleStorageBlobDataContributor, Scope: container}}
}

// deployWorkloads puts the workloads on the cluster once what they need
// exists: identities, federated credentials and grants, the data services'
// databases and endpoints, the user pool.
func deployWorkloads(ctx *pulumi.Context, cfg *config.Config, out *Outputs, cluster *aks.AKS, needs []pulumi.Resource) error {
	identities := map[string]workloads.Identity{}
	for name, id := range out.Identities {
		identities[name] = workloads.Identity{ClientID: id.ClientID, PrincipalName: id.PrincipalName, PrincipalID: id.PrincipalID}
	}
	_, err := workloads.New(ctx, "workloads", workloads.Args{
		Config:                cfg,
		ResourceGroupName:     out.ResourceGroupName,
		ClusterName:           out.AKSClusterName,
		TenantID:              out.TenantID,
		RegistryLoginServer:   out.ACRLoginServer,
		KafkaBootstrap:        out.KafkaBootstrap,
		EventsTopic:           out.EventsTopic,
		DLQTopic:              out.DLQTopic,
		CassandraContactPoint: out.CassandraContactPoint,
		CassandraUsername:     out.CassandraUsername,
		KeySecretName:         out.CassandraKeySecretName,
		ReadOnlyKeySecretName: out.CassandraReadOnlyKeySecretName,
		KeyVaultName:          out.KeyVaultName,
		PostgresHost:          out.PostgresHost,
		PostgresPort:          out.PostgresPort,
		PostgresDatabase:      out.PostgresDatabase,
		RedisHost:             out.RedisHost,
		RedisPort:             out.RedisPort,
		DataLakeDfsEndpoint:   out.DataLakeDfsEndpoint,
		ReferenceContainer:    out.ReferenceContainer,
		Identities:            identities,
		ClusterAccess:         cluster.DeployerAccess,
		Cluster:               cluster.Cluster,
		DependsOn:             needs,
	})
	return err
}

// sparkEnrichAccounts are the service accounts federated to the enrich
// identity besides enrich's own: with sluice:enrichEngine spark, the Spark
// enrich job's driver and executors (workloads.EnrichSpark). They do the
// enrich job's work (read the events with the read-only Cosmos DB key, the
// models, write the window as the enrich PostgreSQL role), so they get
// exactly its rights, and nothing else: no second identity, no second
// PostgreSQL role with the same grants to keep in step. Their Kubernetes
// rights stay apart: the driver's service account may manage executor
// pods, enrich's may manage SparkApplications, neither both.
func sparkEnrichAccounts(cfg *config.Config) []string {
	if !cfg.Spark.EnrichOnSpark() {
		return nil
	}
	return []string{workloads.EnrichSpark}
}
