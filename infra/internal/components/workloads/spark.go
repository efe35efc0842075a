package workloads

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Stream is the Spark stream job's workload name: its image, service
// account, SparkApplication and pod label.
const Stream = deploy.Stream

// The Spark Operator (Kubeflow spark-operator Helm chart), pinned. Its CRDs
// are the ones in ../shared/schemas/crds that plancheck validates the
// SparkApplication against, so the two versions move together.
const (
	SparkOperatorChart     = "spark-operator"
	SparkOperatorVersion   = "2.5.2"
	SparkOperatorRepo      = "https://kubeflow.github.io/spark-operator"
	SparkOperatorNamespace = "spark-operator"
)

// Fixed settings of the stream job's pods.
const (
	// SparkDriverPort and SparkBlockManagerPort are pinned (Spark picks
	// random ones otherwise) so the NetworkPolicy can name them: executors
	// connect to the driver, and fetch shuffle blocks from each other.
	SparkDriverPort       = 7078
	SparkBlockManagerPort = 7079
	// CheckpointDir is where the checkpoint volume is mounted in the driver
	// and every executor; the query's checkpoint (offsets, commits and the
	// aggregation and silence state) lives under it, so a restarted driver
	// resumes where the last one committed.
	CheckpointDir = "/checkpoints"
	// CheckpointStorageClass is AKS's built-in Azure Files class: the
	// volume is ReadWriteMany, which the state store needs (executors on
	// several nodes write it).
	CheckpointStorageClass = "azurefile-csi"
	// sparkWorkDir is the base image's working directory; the root
	// filesystem is read-only, so it is an emptyDir.
	sparkWorkDir = "/opt/spark/work-dir"
)

// ShufflePartitions is the stream job's spark.sql.shuffle.partitions:
// two per executor core.
func ShufflePartitions(executors, cores int) int { return max(2, 2*executors*cores) }

// sparkOperator installs the Spark Operator in its own namespace, watching
// only the workloads' namespace. The workloads' namespace keeps its own
// service account and Role for the driver (the chart's are off), and the
// admission webhook is off: everything the operator's spark-submit cannot
// set (security contexts, the CSI volume, the environment) is in the pod
// templates, which Spark applies itself, so a driver pod never depends on
// a webhook being up to pass the restricted Pod Security Standard.
//
// The chart's own image submits with Spark 4.0's spark-submit, one major
// above the job's 3.5 (a gap its maintainers report as working for a
// submission, with no guarantee): sluice:sparkOperatorImage replaces it
// with an operator image built on Spark 3.5, pinned by digest.
func (d *deployer) sparkOperator() (pulumi.Resource, error) {
	values := pulumi.Map{
		"spark": pulumi.Map{
			"jobNamespaces":  pulumi.StringArray{pulumi.String(d.ns)},
			"serviceAccount": pulumi.Map{"create": pulumi.Bool(false)},
			"rbac":           pulumi.Map{"create": pulumi.Bool(false)},
		},
		"webhook": pulumi.Map{"enable": pulumi.Bool(false)},
		"controller": pulumi.Map{
			"replicas":  pulumi.Int(1),
			"uiService": pulumi.Map{"enable": pulumi.Bool(false)},
		},
	}
	if reg, repo, tag, ok := d.cfg.Spark.OperatorImageParts(); ok {
		values["image"] = pulumi.Map{"registry": pulumi.String(reg), "repository": pulumi.String(repo), "tag": pulumi.String(tag)}
	}
	rel, err := helmv3.NewRelease(d.ctx, d.name+"-spark-operator", &helmv3.ReleaseArgs{
		Name:            pulumi.String(SparkOperatorChart),
		Chart:           pulumi.String(SparkOperatorChart),
		Version:         pulumi.String(SparkOperatorVersion),
		RepositoryOpts:  helmv3.RepositoryOptsArgs{Repo: pulumi.String(SparkOperatorRepo)},
		Namespace:       pulumi.String(SparkOperatorNamespace),
		CreateNamespace: pulumi.Bool(true),
		Atomic:          pulumi.Bool(true),
		CleanupOnFail:   pulumi.Bool(true),
		Timeout:         pulumi.Int(600),
		Values:          values,
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace, d.args.Cluster}))...)
	if err != nil {
		return nil, fmt.Errorf("spark operator: %w", err)
	}
	return rel, nil
}

// sparkDriverRole lets a Spark job's driver (service account workload)
// manage its executors: the pods, the driver's headless service and the
// config maps spark-submit writes (and the stream's volume claims), in the
// workloads' namespace only.
func (d *deployer) sparkDriverRole(workload string, resources []string) (pulumi.Resource, error) {
	verbs := pulumi.ToStringArray([]string{"create", "get", "list", "watch", "update", "patch", "delete", "deletecollection"})
	role, err := rbacv1.NewRole(d.ctx, d.name+"-"+workload+"-driver-role", &rbacv1.RoleArgs{
		Metadata: d.meta(workload+"-driver", workload),
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String("")},
			Resources: pulumi.ToStringArray(resources),
			Verbs:     verbs,
		}},
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace}))...)
	if err != nil {
		return nil, fmt.Errorf("%s driver role: %w", workload, err)
	}
	binding, err := rbacv1.NewRoleBinding(d.ctx, d.name+"-"+workload+"-driver-binding", &rbacv1.RoleBindingArgs{
		Metadata: d.meta(workload+"-driver", workload),
		RoleRef: rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: pulumi.String(workload + "-driver"),
		},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{
			Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(workload), Namespace: pulumi.String(d.ns),
		}},
	}, d.with(pulumi.DependsOn([]pulumi.Resource{role}))...)
	if err != nil {
		return nil, fmt.Errorf("%s driver role binding: %w", workload, err)
	}
	return binding, nil
}

// checkpointVolume is the stream job's checkpoint claim. It is kept when
// the job is replaced (a new image): the next driver resumes from it.
func (d *deployer) checkpointVolume() (pulumi.Resource, error) {
	pvc, err := corev1.NewPersistentVolumeClaim(d.ctx, d.name+"-stream-checkpoints", &corev1.PersistentVolumeClaimArgs{
		Metadata: d.meta(Stream+"-checkpoints", Stream),
		Spec: corev1.PersistentVolumeClaimSpecArgs{
			AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteMany")},
			StorageClassName: pulumi.String(CheckpointStorageClass),
			Resources: corev1.VolumeResourceRequirementsArgs{
				Requests: pulumi.StringMap{"storage": pulumi.String(strconv.Itoa(d.cfg.Spark.CheckpointGB) + "Gi")},
			},
		},
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace}))...)
	if err != nil {
		return nil, fmt.Errorf("stream checkpoint volume: %w", err)
	}
	return pvc, nil
}

// streamEnv is the stream job's configuration (its Settings reads these):
// Event Hubs with Entra ID (OAUTHBEARER, the pod's workload identity),
// Cosmos DB with the mounted key over TLS, the checkpoint on the volume.
func (d *deployer) streamEnv() []envVar {
	return append([]envVar{
		ev(deploy.EnvKafkaBrokers, d.args.KafkaBootstrap),
		ev(deploy.EnvKafkaTopic, pulumi.String(d.args.EventsTopic)),
		ev(deploy.EnvKafkaAuth, pulumi.String("oauth")),
		ev(deploy.EnvCassandraPort, pulumi.String(strconv.Itoa(CassandraPort))),
		ev(deploy.EnvCassandraTLS, pulumi.String("true")),
		ev(deploy.EnvSparkCheckpoint, pulumi.String(CheckpointDir+"/"+Stream)),
		ev(deploy.EnvSparkGroupPrefix, pulumi.String(Stream)),
		ev(deploy.EnvSparkTrigger, pulumi.String(d.cfg.Spark.Trigger)),
	}, d.cassandraEnv()...)
}

// streamPod is the pod template of the stream job's driver or executors
// (sparkPod), with the checkpoint volume.
func (d *deployer) streamPod(role string) pulumi.Map {
	return sparkPod(role, Stream, d.streamEnv(),
		pulumi.Array{pulumi.Map{"name": pulumi.String("checkpoints"), "persistentVolumeClaim": pulumi.Map{"claimName": pulumi.String(Stream + "-checkpoints")}}},
		pulumi.Array{pulumi.Map{"name": pulumi.String("checkpoints"), "mountPath": pulumi.String(CheckpointDir)}})
}

// stream declares the stream job (after the operator): the driver's Role,
// the checkpoint volume, and the SparkApplication, restarted whenever it
// stops (a streaming query has no end).
func (d *deployer) stream() error {
	role, err := d.sparkDriverRole(Stream, []string{"pods", "services", "configmaps", "persistentvolumeclaims"})
	if err != nil {
		return err
	}
	pvc, err := d.checkpointVolume()
	if err != nil {
		return err
	}
	s := d.cfg.Spark
	conf := sparkConf()
	// Two shuffle partitions (and so state store partitions) per
	// executor core, not Spark's 200, which would cost a task each per
	// micro-batch. The checkpoint keeps the count it started with,
	// whatever the executors later.
	conf["spark.sql.shuffle.partitions"] = pulumi.String(strconv.Itoa(ShufflePartitions(s.Executors, s.ExecutorCores)))
	conf["spark.sql.streaming.stopGracefullyOnShutdown"] = pulumi.String("true")
	podLabels := pulumi.StringMap{NameLabel: pulumi.String(Stream), "app.kubernetes.io/part-of": pulumi.String("sluice")}
	needs := append(append([]pulumi.Resource{}, d.ready...), d.operator, role, pvc)
	if _, err := apiextensions.NewCustomResource(d.ctx, d.name+"-stream", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("sparkoperator.k8s.io/v1beta2"),
		Kind:       pulumi.String("SparkApplication"),
		Metadata:   d.meta(Stream, Stream),
		OtherFields: kubernetes.UntypedArgs{
			"spec": pulumi.Map{
				"type":                pulumi.String("Java"),
				"mode":                pulumi.String("cluster"),
				"sparkVersion":        pulumi.String(deploy.SparkVersion),
				"image":               d.images[Stream],
				"imagePullPolicy":     pulumi.String("IfNotPresent"),
				"mainClass":           pulumi.String(deploy.SparkStreamMainClass),
				"mainApplicationFile": pulumi.String("local://" + deploy.SparkJobJar),
				"restartPolicy": pulumi.Map{
					"type": pulumi.String("Always"),
					// The operator waits interval × attempts so far before
					// each retry, and the count never resets: short
					// intervals keep a job that failed often from waiting
					// for hours.
					"onFailureRetryInterval":           pulumi.Int(10),
					"onSubmissionFailureRetryInterval": pulumi.Int(10),
				},
				"sparkConf": conf,
				"driver": pulumi.Map{
					"cores":          pulumi.Int(1),
					"coreLimit":      pulumi.String("1"),
					"memory":         pulumi.String(s.DriverMemory),
					"serviceAccount": pulumi.String(Stream),
					"labels":         podLabels,
					"template":       d.streamPod("driver"),
				},
				"executor": pulumi.Map{
					"instances":      pulumi.Int(s.Executors),
					"cores":          pulumi.Int(s.ExecutorCores),
					"coreLimit":      pulumi.String(strconv.Itoa(s.ExecutorCores)),
					"memory":         pulumi.String(s.ExecutorMemory),
					"serviceAccount": pulumi.String(Stream),
					"labels":         podLabels,
					"template":       d.streamPod("executor"),
				},
			},
		},
	}, d.with(pulumi.DependsOn(needs))...); err != nil {
		return fmt.Errorf("stream spark application: %w", err)
	}
	return nil
}

// sparkPeerPolicies let a Spark job's pods (label workload) talk to each
// other on the driver and block manager ports, and its driver reach the
// Kubernetes API server.
func (d *deployer) sparkPeerPolicies(workload string) error {
	sparkPorts := networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{
		Protocol: pulumi.String("TCP"), Port: pulumi.Int(SparkDriverPort), EndPort: pulumi.Int(SparkBlockManagerPort),
	}}
	peers := networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: selector(workload)},
	}}
	if err := d.policy(workload+"-peers", networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: selector(workload)},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		Ingress:     networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{From: peers, Ports: sparkPorts}},
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{To: peers, Ports: sparkPorts}},
	}); err != nil {
		return err
	}
	return d.policy(workload+"-driver-api-server", networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{NameLabel: pulumi.String(workload), "spark-role": pulumi.String("driver")}},
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{To: d.apiServerPeers(), Ports: networkingv1.NetworkPolicyPortArray{tcp(pulumi.Int(443))}}},
	})
}

// apiServerPeers is where the Kubernetes API server is for a pod: HTTPS at
// public addresses, or in the nodes subnet where a private cluster's API
// server endpoint is.
func (d *deployer) apiServerPeers() networkingv1.NetworkPolicyPeerArray {
	if d.cfg.AKS.PrivateAPIServer {
		return networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
			IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String(d.cfg.Network.AKSNodesSubnetCIDR)},
		}}
	}
	return publicPeers()
}
