package workloads

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Pod-level constants shared by every workload.
const (
	// HTTPPort serves /healthz, /readyz, /metrics (and api's routes,
	// ingest's /lag); the api serves the first three on OpsPort instead.
	HTTPPort = deploy.HTTPPort
	OpsPort  = deploy.OpsPort
	// RunAsUser is the images' non-root user (and group).
	RunAsUser = 65532
	// SecretsDir is where the Cosmos DB key is mounted; PasswordFile is
	// the file CASSANDRA_PASSWORD_FILE names.
	SecretsDir   = "/mnt/secrets/cosmos"
	PasswordFile = SecretsDir + "/cassandra-password"
	// PasswordAlias is the file name the SecretProviderClass gives the key.
	PasswordAlias = "cassandra-password"
	// CSIDriver is the Secrets Store CSI driver's name.
	CSIDriver = "secrets-store.csi.k8s.io"
	// WorkloadIdentityUse is the pod label the workload identity webhook
	// looks for; ClientIDAnnotation the service account annotation.
	WorkloadIdentityUse = "azure.workload.identity/use"
	ClientIDAnnotation  = "azure.workload.identity/client-id"
	TenantIDAnnotation  = "azure.workload.identity/tenant-id"
	// NameLabel selects a workload's pods.
	NameLabel = "app.kubernetes.io/name"
	// ZoneKey and HostKey are the topology keys pods are spread over.
	ZoneKey = "topology.kubernetes.io/zone"
	HostKey = "kubernetes.io/hostname"
)

// resources are a container's requests and limits.
type resources struct {
	cpuRequest, memRequest, cpuLimit, memLimit string
}

func (r resources) args() corev1.ResourceRequirementsArgs {
	return corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(r.cpuRequest), "memory": pulumi.String(r.memRequest)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(r.cpuLimit), "memory": pulumi.String(r.memLimit)},
	}
}

// Sizes of each workload's container.
var sizes = map[string]resources{
	Ingest:     {"250m", "256Mi", "1", "512Mi"},
	Changefeed: {"100m", "128Mi", "500m", "256Mi"},
	API:        {"250m", "256Mi", "1", "512Mi"},
	Enrich:     {"500m", "512Mi", "2", "2Gi"},
	Migrate:    {"100m", "128Mi", "500m", "256Mi"},
	Principals: {"100m", "128Mi", "500m", "256Mi"},
	Seed:       {"100m", "256Mi", "1", "512Mi"},
}

// podSpec describes one workload's pod.
type podSpec struct {
	workload       string
	serviceAccount string
	image          pulumi.StringInput
	env            corev1.EnvVarArray
	// service pods run until stopped: they get probes and a port.
	service bool
	// ops pods serve their probes and metrics on OpsPort (OPS_ADDR), apart
	// from the port clients reach (the api).
	ops bool
	// cosmosKey mounts the Cosmos DB key via SecretProviderClass
	// cosmos-key-<serviceAccount>.
	cosmosKey bool
	// restartPolicy is set for Job pods.
	restartPolicy string
	// zones makes the zone spread a hard constraint.
	zones bool
	args  []string
	// apiToken mounts the service account's Kubernetes API token (the
	// enrich launcher's); every other pod has none.
	apiToken bool
	// configMap is mounted read-only, when set.
	configMap *configMount
}

// configMount is a ConfigMap mounted as a directory.
type configMount struct{ name, dir string }

func labels(workload string) pulumi.StringMap {
	return pulumi.StringMap{
		NameLabel:                      pulumi.String(workload),
		"app.kubernetes.io/part-of":    pulumi.String("sluice"),
		"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
	}
}

func selector(workload string) pulumi.StringMap {
	return pulumi.StringMap{NameLabel: pulumi.String(workload)}
}

// SecretProviderClassName is the class that mounts the key with a service
// account's identity.
func SecretProviderClassName(serviceAccount string) string { return "cosmos-key-" + serviceAccount }

func (p podSpec) template() corev1.PodTemplateSpecArgs {
	podLabels := labels(p.workload)
	podLabels[WorkloadIdentityUse] = pulumi.String("true")
	mounts := corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")}}
	volumes := corev1.VolumeArray{corev1.VolumeArgs{
		Name:     pulumi.String("tmp"),
		EmptyDir: corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")},
	}}
	if p.cosmosKey {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("cosmos-key"), MountPath: pulumi.String(SecretsDir), ReadOnly: pulumi.Bool(true)})
		volumes = append(volumes, corev1.VolumeArgs{
			Name: pulumi.String("cosmos-key"),
			Csi: corev1.CSIVolumeSourceArgs{
				Driver:           pulumi.String(CSIDriver),
				ReadOnly:         pulumi.Bool(true),
				VolumeAttributes: pulumi.StringMap{"secretProviderClass": pulumi.String(SecretProviderClassName(p.serviceAccount))},
			},
		})
	}
	if p.configMap != nil {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("config"), MountPath: pulumi.String(p.configMap.dir), ReadOnly: pulumi.Bool(true)})
		volumes = append(volumes, corev1.VolumeArgs{
			Name:      pulumi.String("config"),
			ConfigMap: corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(p.configMap.name)},
		})
	}
	c := corev1.ContainerArgs{
		Name:            pulumi.String(p.workload),
		Image:           p.image,
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		Env:             p.env,
		Resources:       sizes[p.workload].args(),
		VolumeMounts:    mounts,
		SecurityContext: corev1.SecurityContextArgs{
			RunAsNonRoot:             pulumi.Bool(true),
			RunAsUser:                pulumi.Int(RunAsUser),
			RunAsGroup:               pulumi.Int(RunAsUser),
			AllowPrivilegeEscalation: pulumi.Bool(false),
			Privileged:               pulumi.Bool(false),
			ReadOnlyRootFilesystem:   pulumi.Bool(true),
			Capabilities:             corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
			SeccompProfile:           corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
	}
	if len(p.args) > 0 {
		c.Args = pulumi.ToStringArray(p.args)
	}
	if p.service {
		probePort := "http"
		ports := corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(HTTPPort), Protocol: pulumi.String("TCP")}}
		if p.ops {
			probePort = "ops"
			ports = append(ports, corev1.ContainerPortArgs{Name: pulumi.String("ops"), ContainerPort: pulumi.Int(OpsPort), Protocol: pulumi.String("TCP")})
		}
		c.Ports = ports
		c.LivenessProbe = corev1.ProbeArgs{
			HttpGet:          corev1.HTTPGetActionArgs{Path: pulumi.String("/healthz"), Port: pulumi.String(probePort)},
			PeriodSeconds:    pulumi.Int(10),
			TimeoutSeconds:   pulumi.Int(2),
			FailureThreshold: pulumi.Int(3),
		}
		c.ReadinessProbe = corev1.ProbeArgs{
			HttpGet:          corev1.HTTPGetActionArgs{Path: pulumi.String("/readyz"), Port: pulumi.String(probePort)},
			PeriodSeconds:    pulumi.Int(5),
			TimeoutSeconds:   pulumi.Int(3),
			FailureThreshold: pulumi.Int(3),
		}
		c.StartupProbe = corev1.ProbeArgs{
			HttpGet:          corev1.HTTPGetActionArgs{Path: pulumi.String("/healthz"), Port: pulumi.String(probePort)},
			PeriodSeconds:    pulumi.Int(2),
			FailureThreshold: pulumi.Int(30),
		}
	}
	spec := corev1.PodSpecArgs{
		ServiceAccountName:            pulumi.String(p.serviceAccount),
		AutomountServiceAccountToken:  pulumi.Bool(p.apiToken),
		EnableServiceLinks:            pulumi.Bool(false),
		TerminationGracePeriodSeconds: pulumi.Int(30),
		SecurityContext: corev1.PodSecurityContextArgs{
			RunAsNonRoot:   pulumi.Bool(true),
			RunAsUser:      pulumi.Int(RunAsUser),
			RunAsGroup:     pulumi.Int(RunAsUser),
			FsGroup:        pulumi.Int(RunAsUser),
			SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Containers: corev1.ContainerArray{c},
		Volumes:    volumes,
	}
	if p.restartPolicy != "" {
		spec.RestartPolicy = pulumi.String(p.restartPolicy)
	}
	if p.service {
		zoneRule := "ScheduleAnyway"
		if p.zones {
			zoneRule = "DoNotSchedule"
		}
		spec.TopologySpreadConstraints = corev1.TopologySpreadConstraintArray{
			corev1.TopologySpreadConstraintArgs{
				MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String(ZoneKey), WhenUnsatisfiable: pulumi.String(zoneRule),
				LabelSelector: metav1.LabelSelectorArgs{MatchLabels: selector(p.workload)},
			},
			corev1.TopologySpreadConstraintArgs{
				MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String(HostKey), WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
				LabelSelector: metav1.LabelSelectorArgs{MatchLabels: selector(p.workload)},
			},
		}
	}
	return corev1.PodTemplateSpecArgs{
		Metadata: metav1.ObjectMetaArgs{Labels: podLabels},
		Spec:     spec,
	}
}

// envVar is one environment variable; values are inputs so endpoints
// (outputs of Azure resources) can be used directly.
type envVar struct {
	name  string
	value pulumi.StringInput
}

func ev(name string, value pulumi.StringInput) envVar { return envVar{name, value} }

func env(vars ...envVar) corev1.EnvVarArray {
	out := make(corev1.EnvVarArray, 0, len(vars))
	for _, v := range vars {
		out = append(out, corev1.EnvVarArgs{Name: pulumi.String(v.name), Value: v.value})
	}
	return out
}
