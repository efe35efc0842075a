package workloads

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// The Spark enrich job on AKS (sluice:enrichEngine spark): the enrich
// CronJob plans each window and launches it as a SparkApplication made
// from a template in a ConfigMap (workloads/internal/sparklaunch.Operator);
// the driver and executors run as EnrichSpark.
const (
	// EnrichSpark is the Spark enrich job's service account and pod label.
	// Its service account is federated to the enrich identity (see the
	// platform's sparkEnrichAccounts): the same Azure and database rights,
	// its own Kubernetes rights.
	EnrichSpark = Enrich + "-spark"
	// EnrichSparkTemplateDir is where the template's ConfigMap is mounted
	// in the enrich pod; EnrichSparkTemplate is the file
	// ENRICH_SPARK_APPLICATION names.
	EnrichSparkTemplateDir  = "/etc/sluice/spark"
	EnrichSparkTemplateKey  = "enrich-sparkapplication.json"
	EnrichSparkTemplate     = EnrichSparkTemplateDir + "/" + EnrichSparkTemplateKey
	enrichSparkTemplateName = EnrichSpark + "-application"
	// EnrichSparkTTLSeconds is how long the operator keeps a finished run's
	// SparkApplication (and its driver pod, for its logs) before it
	// deletes it: a day, long past the CronJob's own history.
	EnrichSparkTTLSeconds = 24 * 3600
	// enrichLauncher is the Role that lets enrich manage SparkApplications.
	enrichLauncher = Enrich + "-spark-launcher"
)

// modelsABFSS is the models file as the Spark job reads it (Hadoop's ABFS
// driver): abfss://<container>@<account>.dfs.core.windows.net/<file>,
// from the Data Lake's https DFS endpoint.
func (d *deployer) modelsABFSS() pulumi.StringOutput {
	container := d.args.ReferenceContainer
	return d.args.DataLakeDfsEndpoint.ToStringOutput().ApplyT(func(endpoint string) string {
		host := strings.TrimSuffix(strings.TrimPrefix(endpoint, "https://"), "/")
		return "abfss://" + container + "@" + host + "/" + ModelsFile
	}).(pulumi.StringOutput)
}

// enrichSparkEnv is the Spark enrich job's configuration (EnrichSettings
// reads these, contract.Spark().EnrichEnv): Cosmos DB with the mounted
// read-only key over TLS, PostgreSQL through PgBouncer as the enrich role
// with an Entra token (the pod's workload identity), the models in the
// Data Lake. SPARK_MASTER stays unset: in cluster mode spark-submit sets
// the master.
func (d *deployer) enrichSparkEnv() []envVar {
	return append(append([]envVar{
		ev(deploy.EnvCassandraPort, pulumi.String(strconv.Itoa(CassandraPort))),
		ev(deploy.EnvCassandraTLS, pulumi.String("true")),
		ev(deploy.EnvEnrichModelsURL, d.modelsABFSS()),
	}, d.cassandraEnv()...),
		d.postgresEnv(d.args.Identities[Enrich].PrincipalName, d.args.PostgresPort, deploy.EnvPostgresPort)...)
}

// sparkPod is the pod template of a Spark job's driver or executors (the
// operator hands it to spark-submit as podTemplateFile; Spark merges it
// with what spark-submit sets). It keeps the pods within the restricted
// Pod Security Standard, mounts the Cosmos DB key (CSI, with the
// account's identity) and writable scratch space on a read-only root;
// only the driver mounts a Kubernetes API token (it creates the
// executors).
func sparkPod(role, account string, envs []envVar, extraVolumes, extraMounts pulumi.Array) pulumi.Map {
	uid := pulumi.Int(deploy.SparkUID)
	volumes := append(pulumi.Array{
		pulumi.Map{"name": pulumi.String("tmp"), "emptyDir": pulumi.Map{"sizeLimit": pulumi.String("1Gi")}},
		pulumi.Map{"name": pulumi.String("work-dir"), "emptyDir": pulumi.Map{"sizeLimit": pulumi.String("1Gi")}},
	}, extraVolumes...)
	volumes = append(volumes, pulumi.Map{"name": pulumi.String("cosmos-key"), "csi": pulumi.Map{
		"driver":           pulumi.String(CSIDriver),
		"readOnly":         pulumi.Bool(true),
		"volumeAttributes": pulumi.Map{"secretProviderClass": pulumi.String(SecretProviderClassName(account))},
	}})
	mounts := append(pulumi.Array{
		pulumi.Map{"name": pulumi.String("tmp"), "mountPath": pulumi.String("/tmp")},
		pulumi.Map{"name": pulumi.String("work-dir"), "mountPath": pulumi.String(sparkWorkDir)},
	}, extraMounts...)
	mounts = append(mounts, pulumi.Map{"name": pulumi.String("cosmos-key"), "mountPath": pulumi.String(SecretsDir), "readOnly": pulumi.Bool(true)})
	var vars pulumi.Array
	for _, e := range envs {
		vars = append(vars, pulumi.Map{"name": pulumi.String(e.name), "value": e.value})
	}
	return pulumi.Map{
		"metadata": pulumi.Map{"labels": pulumi.StringMap{WorkloadIdentityUse: pulumi.String("true")}},
		"spec": pulumi.Map{
			"automountServiceAccountToken": pulumi.Bool(role == "driver"),
			"enableServiceLinks":           pulumi.Bool(false),
			"securityContext": pulumi.Map{
				"runAsNonRoot":   pulumi.Bool(true),
				"runAsUser":      uid,
				"runAsGroup":     uid,
				"fsGroup":        uid,
				"seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
			},
			"volumes": volumes,
			"containers": pulumi.Array{pulumi.Map{
				"name":         pulumi.String("spark-kubernetes-" + role),
				"env":          vars,
				"volumeMounts": mounts,
				"securityContext": pulumi.Map{
					"runAsNonRoot":             pulumi.Bool(true),
					"runAsUser":                uid,
					"runAsGroup":               uid,
					"allowPrivilegeEscalation": pulumi.Bool(false),
					"privileged":               pulumi.Bool(false),
					"readOnlyRootFilesystem":   pulumi.Bool(true),
					"capabilities":             pulumi.Map{"drop": pulumi.StringArray{pulumi.String("ALL")}},
					"seccompProfile":           pulumi.Map{"type": pulumi.String("RuntimeDefault")},
				},
			}},
		},
	}
}

// sparkConf is what both Spark jobs set: the jar directory on the class
// path, the pinned ports the NetworkPolicies name, no UI.
func sparkConf() pulumi.StringMap {
	classPath := deploy.SparkJarDir + "/*"
	return pulumi.StringMap{
		"spark.driver.extraClassPath":   pulumi.String(classPath),
		"spark.executor.extraClassPath": pulumi.String(classPath),
		"spark.driver.port":             pulumi.String(strconv.Itoa(SparkDriverPort)),
		"spark.blockManager.port":       pulumi.String(strconv.Itoa(SparkBlockManagerPort)),
		"spark.ui.enabled":              pulumi.String("false"),
	}
}

// EnrichSparkApplication is the enrich SparkApplication template: one run
// of io.sluice.spark.EnrichJob in the stream image, never restarted by the
// operator (the next CronJob run redoes a failed window), deleted a day
// after it ends. The launcher names it after the run and appends the
// window's arguments.
func (d *deployer) enrichSparkApplication() pulumi.Map {
	s := d.cfg.Spark.Enrich
	podLabels := pulumi.StringMap{NameLabel: pulumi.String(EnrichSpark), "app.kubernetes.io/part-of": pulumi.String("sluice")}
	envs := d.enrichSparkEnv()
	return pulumi.Map{
		"apiVersion": pulumi.String("sparkoperator.k8s.io/v1beta2"),
		"kind":       pulumi.String("SparkApplication"),
		"metadata": pulumi.Map{
			"name":      pulumi.String(EnrichSpark),
			"namespace": pulumi.String(d.ns),
			"labels":    labels(EnrichSpark),
		},
		"spec": pulumi.Map{
			"type":                pulumi.String("Java"),
			"mode":                pulumi.String("cluster"),
			"sparkVersion":        pulumi.String(deploy.SparkVersion),
			"image":               d.images[Stream],
			"imagePullPolicy":     pulumi.String("IfNotPresent"),
			"mainClass":           pulumi.String(contract.SparkEnrichClass),
			"mainApplicationFile": pulumi.String("local://" + deploy.SparkJobJar),
			"restartPolicy":       pulumi.Map{"type": pulumi.String("Never")},
			"timeToLiveSeconds":   pulumi.Int(EnrichSparkTTLSeconds),
			"sparkConf":           sparkConf(),
			"driver": pulumi.Map{
				"cores":          pulumi.Int(1),
				"coreLimit":      pulumi.String("1"),
				"memory":         pulumi.String(s.DriverMemory),
				"serviceAccount": pulumi.String(EnrichSpark),
				"labels":         podLabels,
				"template":       sparkPod("driver", EnrichSpark, envs, nil, nil),
			},
			"executor": pulumi.Map{
				"instances":      pulumi.Int(s.Executors),
				"cores":          pulumi.Int(s.ExecutorCores),
				"coreLimit":      pulumi.String(strconv.Itoa(s.ExecutorCores)),
				"memory":         pulumi.String(s.ExecutorMemory),
				"serviceAccount": pulumi.String(EnrichSpark),
				"labels":         podLabels,
				"template":       sparkPod("executor", EnrichSpark, envs, nil, nil),
			},
		},
	}
}

// enrichSpark declares what the enrich CronJob needs to run a window on
// Spark, and returns what the CronJob must wait for: the Spark pods'
// service account and key, the driver's Role, the launcher's Role, and the
// template's ConfigMap (created after the operator, its CRDs and
// everything the driver reaches, since a run may start as soon as the
// CronJob exists).
func (d *deployer) enrichSpark() ([]pulumi.Resource, error) {
	if err := d.identityAs(EnrichSpark, Enrich, true); err != nil {
		return nil, err
	}
	driverRole, err := d.sparkDriverRole(EnrichSpark, []string{"pods", "services", "configmaps"})
	if err != nil {
		return nil, err
	}
	launcher, err := d.enrichLauncherRole()
	if err != nil {
		return nil, err
	}
	tmpl := d.enrichSparkApplication().ToMapOutput().ApplyT(func(m map[string]any) (string, error) {
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return "", fmt.Errorf("encode the enrich spark application: %w", err)
		}
		return string(b) + "\n", nil
	}).(pulumi.StringOutput)
	needs := append(append([]pulumi.Resource{}, d.ready...), d.operator, driverRole)
	cm, err := corev1.NewConfigMap(d.ctx, d.name+"-"+enrichSparkTemplateName, &corev1.ConfigMapArgs{
		Metadata: d.meta(enrichSparkTemplateName, EnrichSpark),
		Data:     pulumi.StringMap{EnrichSparkTemplateKey: tmpl},
	}, d.with(pulumi.DependsOn(needs))...)
	if err != nil {
		return nil, fmt.Errorf("enrich spark application template: %w", err)
	}
	return []pulumi.Resource{cm, launcher}, nil
}

// enrichLauncherRole lets the enrich CronJob's service account create, follow
// and delete SparkApplications in the workloads' namespace, and nothing
// else in the Kubernetes API.
func (d *deployer) enrichLauncherRole() (pulumi.Resource, error) {
	role, err := rbacv1.NewRole(d.ctx, d.name+"-"+enrichLauncher+"-role", &rbacv1.RoleArgs{
		Metadata: d.meta(enrichLauncher, Enrich),
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String("sparkoperator.k8s.io")},
			Resources: pulumi.StringArray{pulumi.String("sparkapplications")},
			Verbs:     pulumi.ToStringArray([]string{"create", "get", "list", "watch", "delete"}),
		}},
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace}))...)
	if err != nil {
		return nil, fmt.Errorf("enrich launcher role: %w", err)
	}
	binding, err := rbacv1.NewRoleBinding(d.ctx, d.name+"-"+enrichLauncher+"-binding", &rbacv1.RoleBindingArgs{
		Metadata: d.meta(enrichLauncher, Enrich),
		RoleRef: rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: pulumi.String(enrichLauncher),
		},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{
			Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(Enrich), Namespace: pulumi.String(d.ns),
		}},
	}, d.with(pulumi.DependsOn([]pulumi.Resource{role}))...)
	if err != nil {
		return nil, fmt.Errorf("enrich launcher role binding: %w", err)
	}
	return binding, nil
}

// enrichSparkPolicies let the Spark enrich pods talk to each other on the
// driver and block manager ports and the driver reach the API server, and
// the enrich CronJob's pod reach the API server (it creates and follows
// the SparkApplication). Their data flows are in flows().
func (d *deployer) enrichSparkPolicies() error {
	if err := d.sparkPeerPolicies(EnrichSpark); err != nil {
		return err
	}
	return d.policy(Enrich+"-api-server", networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: selector(Enrich)},
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{To: d.apiServerPeers(), Ports: networkingv1.NetworkPolicyPortArray{tcp(pulumi.Int(443))}}},
	})
}
