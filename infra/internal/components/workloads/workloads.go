package workloads

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	cs "github.com/pulumi/pulumi-azure-native-sdk/containerservice/v2"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Type is the component's type token.
const Type = "sluice:components:Workloads"

// Workload names (DESIGN.md); Migrate is the schema Job.
const (
	Ingest     = deploy.Ingest
	Changefeed = deploy.Changefeed
	API        = deploy.API
	Enrich     = deploy.Enrich
	Migrate    = deploy.Migrate
)

// ServiceAccounts are the workloads with an identity and the Cosmos DB key;
// DatabaseAccounts (migrate, postgres-admin) have an identity too, and so
// does the stream job when Spark is on (AccountsOf).
var ServiceAccounts = []string{Ingest, Changefeed, API, Enrich}

// AccountsOf are the service accounts with a Cosmos DB key a stack
// deploys: ServiceAccounts, and Stream with sluice:sparkStream.
func AccountsOf(cfg *config.Config) []string {
	out := append([]string{}, ServiceAccounts...)
	if cfg.Spark.Stream {
		out = append(out, Stream)
	}
	return out
}

// Fixed settings of the deployment.
const (
	// ModelsFile is the device-model Parquet file in the reference container.
	ModelsFile = "models.parquet"
	// PostgresDirectPort is the server's own port, which migrations use
	// (a session-level advisory lock needs one server connection, which
	// PgBouncer's transaction pooling does not give).
	PostgresDirectPort = deploy.PostgresDirectPort
	// KafkaPort and CassandraPort are the Event Hubs Kafka endpoint's and
	// Cosmos DB's ports.
	KafkaPort     = deploy.EventHubsKafkaPort
	CassandraPort = deploy.CosmosCassandraPort
	// KedaPollingSeconds is how often KEDA reads ingest's lag.
	KedaPollingSeconds = 15
	// APICPUTarget is the api autoscaler's average CPU utilisation target.
	APICPUTarget = 70
	// LagPath is where ingest serves its consumer group's lag (JSON).
	LagPath = "/lag"
	// LagValueLocation is the JSON field KEDA reads.
	LagValueLocation = "lag"
)

// Identity is a workload identity's client id (for the service account and
// the SecretProviderClass), principal name (its PostgreSQL role) and
// principal (object) id.
type Identity struct {
	ClientID      pulumi.StringInput
	PrincipalName pulumi.StringInput
	PrincipalID   pulumi.StringInput
}

// Args are the component's inputs: the stack's configuration and the
// platform's endpoints and identities.
type Args struct {
	Config *config.Config
	// ResourceGroupName and ClusterName locate the AKS cluster.
	ResourceGroupName pulumi.StringInput
	ClusterName       pulumi.StringInput
	TenantID          string
	// RegistryLoginServer completes images given as a bare digest.
	RegistryLoginServer pulumi.StringInput

	KafkaBootstrap pulumi.StringInput
	EventsTopic    string
	DLQTopic       string

	CassandraContactPoint pulumi.StringInput
	CassandraUsername     pulumi.StringInput
	// KeySecretName is the Key Vault secret with the Cosmos DB key;
	// ReadOnlyKeySecretName the one with its read-only key, which the
	// workloads that only read Cassandra mount (deploy.CassandraReadOnly).
	KeySecretName         string
	ReadOnlyKeySecretName string
	KeyVaultName          pulumi.StringInput

	PostgresHost     pulumi.StringInput
	PostgresPort     pulumi.IntInput
	PostgresDatabase string

	RedisHost pulumi.StringInput
	RedisPort pulumi.IntInput

	DataLakeDfsEndpoint pulumi.StringInput
	ReferenceContainer  string

	// Identities by service account (ServiceAccounts, DatabaseAccounts).
	Identities map[string]Identity
	// ClusterAccess is the deployer's Kubernetes RBAC role assignment on
	// the cluster (local accounts are off): the provider, and so every
	// object, waits for it, and its first call for RBACPropagation after
	// the assignment was created.
	ClusterAccess *authorization.RoleAssignment
	// Cluster is the managed cluster resource, which brings the KEDA and
	// Secrets Store CSI add-ons (their CRDs and drivers): ScaledObject,
	// SecretProviderClass and every pod mounting the CSI volume wait for
	// it.
	Cluster pulumi.Resource
	// DependsOn are what the pods need before they start: the federated
	// credentials and the role assignments, the data services' databases,
	// keyspace, tables, parameters, access grants and private endpoints,
	// and the user node pool they are scheduled on.
	DependsOn []pulumi.Resource
}

// Workloads is the component.
type Workloads struct {
	pulumi.ResourceState

	Namespace pulumi.StringOutput
	// Images are the image references deployed, by workload.
	Images map[string]pulumi.StringOutput
	// APIService is the api's in-cluster DNS name.
	APIService pulumi.StringOutput
}

// New deploys the workloads.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Workloads, error) {
	cfg := args.Config
	if err := cfg.WorkloadsReady(); err != nil {
		return nil, err
	}
	for _, sa := range append(AccountsOf(cfg), DatabaseAccounts...) {
		if _, ok := args.Identities[sa]; !ok {
			return nil, fmt.Errorf("workloads: no identity for %s", sa)
		}
	}
	if args.ClusterAccess == nil {
		return nil, fmt.Errorf("workloads: no Kubernetes RBAC assignment for the deployer")
	}
	if args.Cluster == nil {
		return nil, fmt.Errorf("workloads: no cluster resource to wait for its add-ons")
	}
	c := &Workloads{Images: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register workloads: %w", err)
	}
	provider, err := newProvider(ctx, name+"-kubernetes", args, c)
	if err != nil {
		return nil, err
	}
	d := &deployer{ctx: ctx, name: name, args: args, cfg: cfg, ns: cfg.KubernetesNamespace,
		opts: []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(provider)}}
	for _, w := range cfg.DeployedImages() {
		img, err := imageRef(cfg.Workloads.Images[w], w, args.RegistryLoginServer)
		if err != nil {
			return nil, err
		}
		c.Images[w] = img
	}
	d.images = c.Images
	if err := d.deploy(); err != nil {
		return nil, err
	}
	c.Namespace = pulumi.String(d.ns).ToStringOutput()
	c.APIService = pulumi.Sprintf("%s.%s.svc.cluster.local", API, d.ns)
	outputs := pulumi.Map{"namespace": c.Namespace, "apiService": c.APIService}
	for w, img := range c.Images {
		outputs[w+"Image"] = img
	}
	if err := ctx.RegisterResourceOutputs(c, outputs); err != nil {
		return nil, fmt.Errorf("register workloads outputs: %w", err)
	}
	return c, nil
}

// imageRef resolves a configured image: a full digest reference is used as
// it is, a bare digest lives in the stack's registry under the workload's
// name.
func imageRef(value, workload string, loginServer pulumi.StringInput) (pulumi.StringOutput, error) {
	switch {
	case config.IsDigestRef(value):
		return pulumi.String(value).ToStringOutput(), nil
	case config.IsBareDigest(value):
		return pulumi.Sprintf("%s/%s@%s", loginServer, workload, value), nil
	}
	return pulumi.StringOutput{}, fmt.Errorf("workloads: image of %s %q is not pinned by digest", workload, value)
}

// newProvider builds the Kubernetes provider from the cluster's user
// credentials (kubelogin exec format, rewritten for the configured login
// mode). The kubeconfig is a secret.
func newProvider(ctx *pulumi.Context, name string, args Args, parent pulumi.Resource) (*kubernetes.Provider, error) {
	creds := cs.ListManagedClusterUserCredentialsOutput(ctx, cs.ListManagedClusterUserCredentialsOutputArgs{
		ResourceGroupName: args.ResourceGroupName,
		ResourceName:      args.ClusterName,
		Format:            pulumi.String("exec"),
	})
	mode := args.Config.Workloads.KubeLoginMode
	dryRun := ctx.DryRun()
	kubeconfig := pulumi.All(creds.Kubeconfigs().Index(pulumi.Int(0)).Value(), args.ClusterAccess.CreatedOn).ApplyT(func(v []any) (string, error) {
		encoded, createdOn := v[0].(string), v[1].(string)
		// A fresh assignment is not yet known to the cluster's authorizer:
		// hold the kubeconfig, and so the provider's first call, until it
		// is RBACPropagation old. An older assignment (every later up)
		// waits for nothing. A slower propagation still shows as 403 on
		// the first object; running up again then succeeds.
		if !dryRun {
			time.Sleep(propagationWait(createdOn, time.Now()))
		}
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			return "", fmt.Errorf("decode the cluster's kubeconfig: %w", err)
		}
		out, _, err := ForLogin(raw, mode)
		if err != nil {
			return "", err
		}
		return string(out), nil
	}).(pulumi.StringOutput)
	p, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig:            pulumi.ToSecret(kubeconfig).(pulumi.StringOutput),
		EnableServerSideApply: pulumi.Bool(true),
		// Everything is namespaced explicitly; nothing lands in default.
		Namespace: pulumi.String(args.Config.KubernetesNamespace),
	}, pulumi.Parent(parent), pulumi.DependsOn([]pulumi.Resource{args.ClusterAccess}))
	if err != nil {
		return nil, fmt.Errorf("kubernetes provider: %w", err)
	}
	return p, nil
}

// deployer declares the Kubernetes objects.
type deployer struct {
	ctx    *pulumi.Context
	name   string
	args   Args
	cfg    *config.Config
	ns     string
	opts   []pulumi.ResourceOption
	images map[string]pulumi.StringOutput

	namespace *corev1.Namespace
	// operator is the Spark Operator's release, with either Spark job.
	operator pulumi.Resource
	// ready are what workload pods wait for: namespace objects, the
	// secret provider classes, the migration, the platform's grants.
	ready []pulumi.Resource
}

func (d *deployer) with(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append(append([]pulumi.ResourceOption{}, d.opts...), extra...)
}

func (d *deployer) meta(name string, workload string) metav1.ObjectMetaArgs {
	return metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(d.ns), Labels: labels(workload)}
}

func (d *deployer) deploy() error {
	ns, err := corev1.NewNamespace(d.ctx, d.name+"-namespace", &corev1.NamespaceArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name: pulumi.String(d.ns),
			Labels: pulumi.StringMap{
				"app.kubernetes.io/part-of":          pulumi.String("sluice"),
				"app.kubernetes.io/managed-by":       pulumi.String("pulumi"),
				"pod-security.kubernetes.io/enforce": pulumi.String("restricted"),
				"pod-security.kubernetes.io/audit":   pulumi.String("restricted"),
				"pod-security.kubernetes.io/warn":    pulumi.String("restricted"),
			},
		},
	}, d.opts...)
	if err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	d.namespace = ns
	d.ready = append(d.ready, ns, d.args.Cluster)
	d.ready = append(d.ready, d.args.DependsOn...)
	if err := d.networkPolicies(); err != nil {
		return err
	}
	for _, sa := range AccountsOf(d.cfg) {
		if err := d.identity(sa, true); err != nil {
			return err
		}
	}
	for _, sa := range DatabaseAccounts {
		if err := d.identity(sa, false); err != nil {
			return err
		}
	}
	principals, err := d.principals()
	if err != nil {
		return err
	}
	d.ready = append(d.ready, principals)
	migrate, err := d.migration()
	if err != nil {
		return err
	}
	d.ready = append(d.ready, migrate)
	if err := d.ingest(); err != nil {
		return err
	}
	if err := d.changefeed(); err != nil {
		return err
	}
	if err := d.api(); err != nil {
		return err
	}
	seed, err := d.seed()
	if err != nil {
		return err
	}
	if seed != nil {
		d.ready = append(d.ready, seed)
	}
	if d.cfg.Spark.Operator() {
		if d.operator, err = d.sparkOperator(); err != nil {
			return err
		}
	}
	if err := d.enrich(); err != nil {
		return err
	}
	if d.cfg.Spark.Stream {
		return d.stream()
	}
	return nil
}

// identity declares a workload's service account and, with cosmosKey, the
// SecretProviderClass mounting the Cosmos DB key with its identity.
func (d *deployer) identity(sa string, cosmosKey bool) error { return d.identityAs(sa, sa, cosmosKey) }

// identityAs is identity for a service account federated to the identity
// of workload of (its key is the one that workload mounts).
func (d *deployer) identityAs(sa, of string, cosmosKey bool) error {
	id := d.args.Identities[of]
	m := d.meta(sa, sa)
	m.Annotations = pulumi.StringMap{
		ClientIDAnnotation: id.ClientID,
		TenantIDAnnotation: pulumi.String(d.args.TenantID),
	}
	account, err := corev1.NewServiceAccount(d.ctx, d.name+"-"+sa+"-sa", &corev1.ServiceAccountArgs{
		Metadata:                     m,
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace}))...)
	if err != nil {
		return fmt.Errorf("service account %s: %w", sa, err)
	}
	if !cosmosKey {
		d.ready = append(d.ready, account)
		return nil
	}
	// The SecretProviderClass CRD comes with the cluster's
	// azureKeyvaultSecretsProvider add-on.
	keySecret := d.args.KeySecretName
	if deploy.CassandraReadOnly(of) {
		keySecret = d.args.ReadOnlyKeySecretName
	}
	objects := fmt.Sprintf("array:\n  - |\n    objectName: %s\n    objectType: secret\n    objectAlias: %s\n", keySecret, PasswordAlias)
	spc, err := apiextensions.NewCustomResource(d.ctx, d.name+"-"+sa+"-cosmos-key", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("secrets-store.csi.x-k8s.io/v1"),
		Kind:       pulumi.String("SecretProviderClass"),
		Metadata:   d.meta(SecretProviderClassName(sa), sa),
		OtherFields: kubernetes.UntypedArgs{
			"spec": pulumi.Map{
				"provider": pulumi.String("azure"),
				// No secretObjects: the key is never synced to a
				// Kubernetes Secret.
				"parameters": pulumi.Map{
					"usePodIdentity": pulumi.String("false"),
					"clientID":       id.ClientID,
					"keyvaultName":   d.args.KeyVaultName,
					"tenantId":       pulumi.String(d.args.TenantID),
					"objects":        pulumi.String(objects),
				},
			},
		},
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace, d.args.Cluster}))...)
	if err != nil {
		return fmt.Errorf("secret provider class %s: %w", sa, err)
	}
	d.ready = append(d.ready, account, spc)
	return nil
}

// cassandraEnv is how a workload reaches Cosmos DB: the account name as user
// and the mounted key as password (port, TLS and protocol follow from the
// host name; see cqlsession).
func (d *deployer) cassandraEnv() []envVar {
	return []envVar{
		ev(deploy.EnvCassandraHosts, d.args.CassandraContactPoint),
		ev(deploy.EnvCassandraUsername, d.args.CassandraUsername),
		ev(deploy.EnvCassandraPasswordFile, pulumi.String(PasswordFile)),
	}
}

func (d *deployer) redisEnv() []envVar {
	return []envVar{ev(deploy.EnvRedisAddr, pulumi.Sprintf("%s:%d", d.args.RedisHost, d.args.RedisPort))}
}

// postgresEnv is how a pod logs in to PostgreSQL as user (an identity's
// principal name) with an Entra ID token.
func (d *deployer) postgresEnv(user pulumi.StringInput, port pulumi.IntInput, portKey string) []envVar {
	return []envVar{
		ev(deploy.EnvPostgresHost, d.args.PostgresHost),
		ev(portKey, pulumi.Sprintf("%d", port)),
		ev(deploy.EnvPostgresDatabase, pulumi.String(d.args.PostgresDatabase)),
		ev(deploy.EnvPostgresUser, user),
		ev(deploy.EnvPostgresAuth, pulumi.String("entra")),
		ev(deploy.EnvPostgresSSLMode, pulumi.String("verify-full")),
	}
}

// Shutdown of a pod: Kubernetes kills it TerminationGracePeriod after
// SIGTERM. The api first serves on for APIDrainDelay while the endpoints
// forget it, so its shutdown deadline is that much shorter.
const (
	ShutdownTimeout    = 25 * time.Second
	APIDrainDelay      = 5 * time.Second
	APIShutdownTimeout = ShutdownTimeout - APIDrainDelay
)

func common() []envVar { return commonWith(ShutdownTimeout) }

func commonWith(shutdown time.Duration) []envVar {
	return []envVar{
		ev(deploy.EnvHTTPAddr, pulumi.String(":"+strconv.Itoa(HTTPPort))),
		ev(deploy.EnvLogLevel, pulumi.String("info")),
		ev(deploy.EnvShutdownTimeout, pulumi.String(shutdown.String())),
	}
}

func join(groups ...[]envVar) corev1.EnvVarArray {
	var all []envVar
	for _, g := range groups {
		all = append(all, g...)
	}
	return env(all...)
}

// migration is the schema Job. Its pod template holds the image, so a new
// image replaces the Job (Jobs are immutable) and the migration runs again
// before the workloads are updated.
func (d *deployer) migration() (pulumi.Resource, error) {
	pod := podSpec{
		workload: Migrate, serviceAccount: Migrate, image: d.images[Migrate], restartPolicy: "Never",
		// Kafka topics and Cassandra tables are infrastructure here
		// (migrate skips them on Event Hubs and Cosmos DB); the
		// PostgreSQL schema is the Job's real work.
		args: []string{"-postgres"},
		env: join(
			[]envVar{
				ev(deploy.EnvKafkaBrokers, d.args.KafkaBootstrap),
				ev(deploy.EnvKafkaAuth, pulumi.String("oauth")),
				// Without a user the Cosmos DB step needs no key: on Cosmos
				// DB the tables belong to the infrastructure and migrate
				// skips them.
				ev(deploy.EnvCassandraHosts, d.args.CassandraContactPoint),
			},
			d.postgresEnv(d.args.Identities[Migrate].PrincipalName, pulumi.Int(PostgresDirectPort), deploy.EnvPostgresMigratePort),
		),
	}
	return d.job(Migrate, pod, 900, "migration job")
}

// job declares a run-once Job after everything in d.ready. It has no name:
// its pod template holds the image, so a new image replaces the Job (Jobs
// are immutable), Pulumi creates the replacement before deleting the old
// one, and the step runs again (each is idempotent).
func (d *deployer) job(workload string, pod podSpec, deadlineSeconds int, what string) (pulumi.Resource, error) {
	job, err := batchv1.NewJob(d.ctx, d.name+"-"+workload, &batchv1.JobArgs{
		Metadata: metav1.ObjectMetaArgs{Namespace: pulumi.String(d.ns), Labels: labels(workload)},
		Spec: batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(4),
			ActiveDeadlineSeconds: pulumi.Int(deadlineSeconds),
			Template:              pod.template(),
		},
	}, d.with(pulumi.DependsOn(d.ready))...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return job, nil
}

// deployment declares a long-running workload with its PodDisruptionBudget.
// replicas nil leaves the count to an autoscaler.
func (d *deployer) deployment(workload string, replicas *int, envs corev1.EnvVarArray) error {
	spec := appsv1.DeploymentSpecArgs{
		Selector: metav1.LabelSelectorArgs{MatchLabels: selector(workload)},
		Strategy: appsv1.DeploymentStrategyArgs{
			Type: pulumi.String("RollingUpdate"),
			RollingUpdate: appsv1.RollingUpdateDeploymentArgs{
				MaxUnavailable: pulumi.Int(0),
				MaxSurge:       pulumi.Int(1),
			},
		},
		RevisionHistoryLimit: pulumi.Int(5),
		Template: podSpec{
			workload: workload, serviceAccount: workload, image: d.images[workload], env: envs,
			service: true, ops: workload == API, cosmosKey: true, zones: d.cfg.ZoneRedundant(),
		}.template(),
	}
	if replicas != nil {
		spec.Replicas = pulumi.Int(*replicas)
	}
	if _, err := appsv1.NewDeployment(d.ctx, d.name+"-"+workload, &appsv1.DeploymentArgs{
		Metadata: d.meta(workload, workload),
		Spec:     spec,
	}, d.with(pulumi.DependsOn(d.ready))...); err != nil {
		return fmt.Errorf("deployment %s: %w", workload, err)
	}
	if _, err := policyv1.NewPodDisruptionBudget(d.ctx, d.name+"-"+workload+"-pdb", &policyv1.PodDisruptionBudgetArgs{
		Metadata: d.meta(workload, workload),
		Spec: policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       metav1.LabelSelectorArgs{MatchLabels: selector(workload)},
		},
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace}))...); err != nil {
		return fmt.Errorf("disruption budget %s: %w", workload, err)
	}
	return nil
}

func (d *deployer) service(workload string, port int) error {
	if _, err := corev1.NewService(d.ctx, d.name+"-"+workload+"-service", &corev1.ServiceArgs{
		Metadata: d.meta(workload, workload),
		Spec: corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: selector(workload),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("http"), Port: pulumi.Int(port), TargetPort: pulumi.String("http"), Protocol: pulumi.String("TCP"),
			}},
		},
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace}))...); err != nil {
		return fmt.Errorf("service %s: %w", workload, err)
	}
	return nil
}

func (d *deployer) ingest() error {
	envs := join(common(), []envVar{
		ev(deploy.EnvKafkaBrokers, d.args.KafkaBootstrap),
		ev(deploy.EnvKafkaAuth, pulumi.String("oauth")),
		ev(deploy.EnvKafkaTopic, pulumi.String(d.args.EventsTopic)),
		ev(deploy.EnvKafkaDLQTopic, pulumi.String(d.args.DLQTopic)),
		ev(deploy.EnvIngestGroup, pulumi.String(Ingest)),
	}, d.cassandraEnv())
	if err := d.deployment(Ingest, nil, envs); err != nil {
		return err
	}
	if err := d.service(Ingest, HTTPPort); err != nil {
		return err
	}
	w := d.cfg.Workloads
	if w.IngestMaxReplicas > d.cfg.EventHubs.Partitions {
		return fmt.Errorf("workloads: ingest would scale to %d replicas on %d partitions", w.IngestMaxReplicas, d.cfg.EventHubs.Partitions)
	}
	url := fmt.Sprintf("http://%s.%s.svc.cluster.local:%d%s", Ingest, d.ns, HTTPPort, LagPath)
	// The ScaledObject CRD comes with the cluster's KEDA add-on
	// (workloadAutoScalerProfile.keda); d.ready holds the cluster.
	if _, err := apiextensions.NewCustomResource(d.ctx, d.name+"-ingest-scaler", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("keda.sh/v1alpha1"),
		Kind:       pulumi.String("ScaledObject"),
		Metadata:   d.meta(Ingest, Ingest),
		OtherFields: kubernetes.UntypedArgs{
			"spec": pulumi.Map{
				"scaleTargetRef":  pulumi.Map{"apiVersion": pulumi.String("apps/v1"), "kind": pulumi.String("Deployment"), "name": pulumi.String(Ingest)},
				"minReplicaCount": pulumi.Int(w.IngestMinReplicas),
				// A consumer beyond the partition count owns no partition.
				"maxReplicaCount": pulumi.Int(w.IngestMaxReplicas),
				"pollingInterval": pulumi.Int(KedaPollingSeconds),
				"cooldownPeriod":  pulumi.Int(300),
				// When the lag cannot be read, hold the minimum rather
				// than guess.
				"fallback": pulumi.Map{"failureThreshold": pulumi.Int(4), "replicas": pulumi.Int(w.IngestMinReplicas)},
				"advanced": pulumi.Map{"horizontalPodAutoscalerConfig": pulumi.Map{"behavior": pulumi.Map{
					"scaleDown": pulumi.Map{"stabilizationWindowSeconds": pulumi.Int(300)},
				}}},
				"triggers": pulumi.Array{pulumi.Map{
					"type":       pulumi.String("metrics-api"),
					"metricType": pulumi.String("AverageValue"),
					"metadata": pulumi.Map{
						"url":                   pulumi.String(url),
						"valueLocation":         pulumi.String(LagValueLocation),
						"targetValue":           pulumi.String(strconv.Itoa(w.IngestLagThreshold)),
						"activationTargetValue": pulumi.String("0"),
					},
				}},
			},
		},
	}, d.with(pulumi.DependsOn(d.ready))...); err != nil {
		return fmt.Errorf("ingest scaler: %w", err)
	}
	return nil
}

func (d *deployer) changefeed() error {
	envs := join(common(), d.cassandraEnv(), d.redisEnv(), []envVar{
		ev(deploy.EnvChangefeedSource, pulumi.String("cosmos")),
	})
	n := d.cfg.Workloads.ChangefeedReplicas
	return d.deployment(Changefeed, &n, envs)
}

func (d *deployer) api() error {
	// The report page reads PostgreSQL through PgBouncer as the api's own
	// identity, which the principals Job makes a report reader.
	envs := join(commonWith(APIShutdownTimeout), d.cassandraEnv(), d.redisEnv(), []envVar{
		ev(deploy.EnvAPIMode, pulumi.String("production")),
		ev(deploy.EnvAPIDrainDelay, pulumi.String(APIDrainDelay.String())),
		// Readiness and metrics are for the probes, not for clients.
		ev(deploy.EnvOpsAddr, pulumi.String(":"+strconv.Itoa(OpsPort))),
		ev(deploy.EnvAPIKeysSHA256, pulumi.String(strings.Join(d.cfg.Workloads.APICredentialHashes, ","))),
	}, d.postgresEnv(d.args.Identities[API].PrincipalName, d.args.PostgresPort, deploy.EnvPostgresPort))
	if err := d.deployment(API, nil, envs); err != nil {
		return err
	}
	if err := d.service(API, APIServicePort); err != nil {
		return err
	}
	if err := d.ingress(); err != nil {
		return err
	}
	w := d.cfg.Workloads
	if _, err := autoscalingv2.NewHorizontalPodAutoscaler(d.ctx, d.name+"-api-autoscaler", &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: d.meta(API, API),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReferenceArgs{
				ApiVersion: pulumi.String("apps/v1"), Kind: pulumi.String("Deployment"), Name: pulumi.String(API),
			},
			MinReplicas: pulumi.Int(w.APIMinReplicas),
			MaxReplicas: pulumi.Int(w.APIMaxReplicas),
			Metrics: autoscalingv2.MetricSpecArray{autoscalingv2.MetricSpecArgs{
				Type: pulumi.String("Resource"),
				Resource: autoscalingv2.ResourceMetricSourceArgs{
					Name:   pulumi.String("cpu"),
					Target: autoscalingv2.MetricTargetArgs{Type: pulumi.String("Utilization"), AverageUtilization: pulumi.Int(APICPUTarget)},
				},
			}},
			Behavior: autoscalingv2.HorizontalPodAutoscalerBehaviorArgs{
				ScaleDown: autoscalingv2.HPAScalingRulesArgs{StabilizationWindowSeconds: pulumi.Int(300)},
			},
		},
	}, d.with(pulumi.DependsOn(d.ready))...); err != nil {
		return fmt.Errorf("api autoscaler: %w", err)
	}
	return nil
}

// enrichDeadline bounds an enrich Job (the CronJob's activeDeadlineSeconds);
// enrichSparkTimeout bounds one Spark run inside it, leaving the launcher
// time to delete the SparkApplication and record the run.
const (
	enrichDeadline     = 55 * time.Minute
	enrichSparkTimeout = 50 * time.Minute
)

func (d *deployer) enrich() error {
	models := d.modelsURL()
	var engine []envVar
	needs := d.ready
	var sparkNeeds []pulumi.Resource
	onSpark := d.cfg.Spark.EnrichOnSpark()
	if onSpark {
		// The Spark job reads the models with Hadoop's ABFS driver; the
		// Go side reads the same file from the same URL.
		models = d.modelsABFSS()
		var err error
		if sparkNeeds, err = d.enrichSpark(); err != nil {
			return err
		}
		needs = append(append([]pulumi.Resource{}, d.ready...), sparkNeeds...)
		engine = []envVar{
			ev(deploy.EnvEnrichEngine, pulumi.String(config.EnrichEngineSpark)),
			ev(deploy.EnvEnrichSparkApplication, pulumi.String(EnrichSparkTemplate)),
			// A Spark run ends before the Job's deadline (enrichDeadline),
			// so the launcher, not Kubernetes, stops an overlong driver
			// and records the run failed.
			ev(deploy.EnvEnrichSparkTimeout, pulumi.String(enrichSparkTimeout.String())),
		}
	}
	pod := podSpec{
		workload: Enrich, serviceAccount: Enrich, image: d.images[Enrich], restartPolicy: "Never", cosmosKey: true,
		env: join(
			[]envVar{ev(deploy.EnvLogLevel, pulumi.String("info")), ev(deploy.EnvEnrichModelsURL, models)},
			engine,
			d.cassandraEnv(),
			d.postgresEnv(d.args.Identities[Enrich].PrincipalName, d.args.PostgresPort, deploy.EnvPostgresPort),
		),
	}
	if onSpark {
		// The launcher talks to the API server as enrich (its Role allows
		// SparkApplications only) and reads the template.
		pod.apiToken = true
		pod.configMap = &configMount{name: enrichSparkTemplateName, dir: EnrichSparkTemplateDir}
	}
	if _, err := batchv1.NewCronJob(d.ctx, d.name+"-"+Enrich, &batchv1.CronJobArgs{
		Metadata: d.meta(Enrich, Enrich),
		Spec: batchv1.CronJobSpecArgs{
			Schedule:                   pulumi.String(d.cfg.Workloads.EnrichSchedule),
			TimeZone:                   pulumi.String("Etc/UTC"),
			ConcurrencyPolicy:          pulumi.String("Forbid"),
			StartingDeadlineSeconds:    pulumi.Int(600),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(5),
			JobTemplate: batchv1.JobTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels(Enrich)},
				Spec: batchv1.JobSpecArgs{
					BackoffLimit:          pulumi.Int(2),
					ActiveDeadlineSeconds: pulumi.Int(int(enrichDeadline.Seconds())),
					Template:              pod.template(),
				},
			},
		},
	}, d.with(pulumi.DependsOn(needs))...); err != nil {
		return fmt.Errorf("enrich cron job: %w", err)
	}
	return nil
}
