package aks

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	cs "github.com/pulumi/pulumi-azure-native-sdk/containerservice/v2/v20250101"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative/managedidentity"
	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/config"
)

// Type is the component's type token.
const Type = "sluice:components:AKS"

// SystemTaint keeps everything but critical add-ons off the system pool.
const SystemTaint = "CriticalAddonsOnly=true:NoSchedule"

// Args are the component's inputs.
type Args struct {
	NodesSubnetID pulumi.StringInput
	// RegistryID is the registry the kubelet identity may pull from.
	RegistryID pulumi.StringInput
	// KeyVaultID is the stack's vault, which holds the api's TLS
	// certificate when the api has an ingress.
	KeyVaultID pulumi.StringInput
}

// AKS is the component.
type AKS struct {
	pulumi.ResourceState

	ClusterID         pulumi.StringOutput
	ClusterName       pulumi.StringOutput
	NodeResourceGroup pulumi.StringOutput
	// OIDCIssuerURL is the issuer the workloads' federated credentials trust.
	OIDCIssuerURL   pulumi.StringOutput
	KubeletObjectID pulumi.StringOutput
	// DeployerAccess is the deployer's "Azure Kubernetes Service RBAC
	// Cluster Admin" assignment on the cluster: the Kubernetes provider
	// must wait for it (local accounts are off, so without it every call
	// is 403).
	DeployerAccess *authorization.RoleAssignment
	// Cluster is the managed cluster. Its KEDA (workloadAutoScalerProfile)
	// and Key Vault Secrets Store CSI (azureKeyvaultSecretsProvider)
	// add-ons, whose CRDs ScaledObject and SecretProviderClass are, are
	// part of it: objects of those kinds depend on the cluster resource.
	Cluster pulumi.Resource
	// UserPool is the pool workload pods run on (the system pool is
	// tainted CriticalAddonsOnly): pods wait for it.
	UserPool pulumi.Resource
	// IngressCertificateAccess is the application routing add-on's grant
	// on the api's TLS certificate (nil without an ingress): the Ingress
	// waits for it.
	IngressCertificateAccess pulumi.Resource
}

// New declares the cluster, its user pool and the identities' grants.
func New(ctx *pulumi.Context, name string, env *base.Env, args Args, opts ...pulumi.ResourceOption) (*AKS, error) {
	c := &AKS{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register aks: %w", err)
	}
	parent := pulumi.Parent(c)
	a := env.Config.AKS
	n := env.Config.Network
	controlPlane, err := managedidentity.NewUserAssignedIdentity(ctx, name+"-control-plane", &managedidentity.UserAssignedIdentityArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		Tags:              env.Tags(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("control plane identity: %w", err)
	}
	subnetGrant, err := env.Grant(ctx, name+"-control-plane-network", controlPlane.PrincipalId, base.RoleNetworkContributor, args.NodesSubnetID, parent)
	if err != nil {
		return nil, err
	}
	zones := env.Zones()
	apiAccess := cs.ManagedClusterAPIServerAccessProfileArgs{EnablePrivateCluster: pulumi.Bool(a.PrivateAPIServer)}
	if a.PrivateAPIServer {
		apiAccess.PrivateDNSZone = pulumi.String("system")
		apiAccess.EnablePrivateClusterPublicFQDN = pulumi.Bool(false)
	} else if len(a.AuthorizedIPRanges) > 0 {
		// Config validation guarantees a public API server has ranges
		// unless a dev stack opted out explicitly.
		apiAccess.AuthorizedIPRanges = pulumi.ToStringArray(a.AuthorizedIPRanges)
		for _, r := range a.AuthorizedIPRanges {
			if config.IsDocumentationRange(r) {
				if err := ctx.Log.Warn(fmt.Sprintf("sluice:aksAuthorizedIpRanges holds the documentation placeholder %s, which admits nobody: the Kubernetes objects cannot be applied until you list your egress ranges", r), nil); err != nil {
					return nil, fmt.Errorf("warn: %w", err)
				}
			}
		}
	} else if err := ctx.Log.Warn("sluice:aksUnrestrictedPublicApiServer: the cluster API server accepts connections from every address", nil); err != nil {
		return nil, fmt.Errorf("warn: %w", err)
	}
	clusterArgs := &cs.ManagedClusterArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		DnsPrefix:         pulumi.String("sluice-" + env.Config.Stack),
		Sku:               cs.ManagedClusterSKUArgs{Name: pulumi.String("Base"), Tier: pulumi.String(a.SKUTier)},
		Identity: cs.ManagedClusterIdentityArgs{
			Type:                   cs.ResourceIdentityTypeUserAssigned,
			UserAssignedIdentities: pulumi.StringArray{controlPlane.ID().ToStringOutput()},
		},
		AgentPoolProfiles: cs.ManagedClusterAgentPoolProfileArray{cs.ManagedClusterAgentPoolProfileArgs{
			Name:              pulumi.String("system"),
			Mode:              pulumi.String("System"),
			Count:             pulumi.Int(a.SystemNodeCount),
			VmSize:            pulumi.String(a.SystemVMSize),
			AvailabilityZones: zones,
			VnetSubnetID:      args.NodesSubnetID,
			NodeTaints:        pulumi.StringArray{pulumi.String(SystemTaint)},
			OsType:            pulumi.String("Linux"),
			OsSKU:             pulumi.String("AzureLinux"),
			Type:              pulumi.String("VirtualMachineScaleSets"),
		}},
		NetworkProfile: cs.ContainerServiceNetworkProfileArgs{
			NetworkPlugin:     pulumi.String("azure"),
			NetworkPluginMode: pulumi.String("overlay"),
			NetworkDataplane:  pulumi.String("cilium"),
			NetworkPolicy:     pulumi.String("cilium"),
			PodCidr:           pulumi.String(n.AKSPodCIDR),
			ServiceCidr:       pulumi.String(n.AKSServiceCIDR),
			DnsServiceIP:      pulumi.String(n.AKSDNSServiceIP),
			LoadBalancerSku:   pulumi.String("standard"),
			OutboundType:      pulumi.String("loadBalancer"),
		},
		OidcIssuerProfile: cs.ManagedClusterOIDCIssuerProfileArgs{Enabled: pulumi.Bool(true)},
		SecurityProfile: cs.ManagedClusterSecurityProfileArgs{
			WorkloadIdentity: cs.ManagedClusterSecurityProfileWorkloadIdentityArgs{Enabled: pulumi.Bool(true)},
		},
		WorkloadAutoScalerProfile: cs.ManagedClusterWorkloadAutoScalerProfileArgs{
			Keda: cs.ManagedClusterWorkloadAutoScalerProfileKedaArgs{Enabled: pulumi.Bool(true)},
		},
		DisableLocalAccounts: pulumi.Bool(true),
		EnableRBAC:           pulumi.Bool(true),
		AadProfile: cs.ManagedClusterAADProfileArgs{
			Managed:         pulumi.Bool(true),
			EnableAzureRBAC: pulumi.Bool(true),
			TenantID:        pulumi.String(env.TenantID),
		},
		AutoUpgradeProfile: cs.ManagedClusterAutoUpgradeProfileArgs{
			UpgradeChannel:       pulumi.String(a.UpgradeChannel),
			NodeOSUpgradeChannel: pulumi.String(a.NodeOSUpgradeChannel),
		},
		ApiServerAccessProfile: apiAccess,
		AddonProfiles: cs.ManagedClusterAddonProfileMap{
			"azureKeyvaultSecretsProvider": cs.ManagedClusterAddonProfileArgs{
				Enabled: pulumi.Bool(true),
				Config:  pulumi.StringMap{"enableSecretRotation": pulumi.String("true")},
			},
			"omsagent": cs.ManagedClusterAddonProfileArgs{
				Enabled: pulumi.Bool(true),
				Config: pulumi.StringMap{
					"logAnalyticsWorkspaceResourceID": env.WorkspaceID,
					"useAADAuth":                      pulumi.String("true"),
				},
			},
		},
		Tags: env.Tags(),
	}
	if a.KubernetesVersion != "" {
		clusterArgs.KubernetesVersion = pulumi.String(a.KubernetesVersion)
	}
	ingress := env.Config.Workloads.APIIngress != "none"
	if ingress {
		// The application routing add-on (managed NGINX, ingress class
		// webapprouting.kubernetes.azure.com) serves the api; it reads
		// TLS certificates from Key Vault through the Secrets Store CSI
		// add-on enabled above.
		clusterArgs.IngressProfile = cs.ManagedClusterIngressProfileArgs{
			WebAppRouting: cs.ManagedClusterIngressProfileWebAppRoutingArgs{Enabled: pulumi.Bool(true)},
		}
	}
	cluster, err := cs.NewManagedCluster(ctx, name, clusterArgs, parent, pulumi.DependsOn([]pulumi.Resource{subnetGrant}))
	if err != nil {
		return nil, fmt.Errorf("managed cluster: %w", err)
	}
	poolArgs := &cs.AgentPoolArgs{
		ResourceGroupName: env.ResourceGroupName,
		ResourceName:      cluster.Name,
		AgentPoolName:     pulumi.String("user"),
		Mode:              pulumi.String("User"),
		EnableAutoScaling: pulumi.Bool(true),
		MinCount:          pulumi.Int(a.UserMinCount),
		MaxCount:          pulumi.Int(a.UserMaxCount),
		Count:             pulumi.Int(max(a.UserMinCount, 1)),
		VmSize:            pulumi.String(a.UserVMSize),
		AvailabilityZones: zones,
		VnetSubnetID:      args.NodesSubnetID,
		OsType:            pulumi.String("Linux"),
		OsSKU:             pulumi.String("AzureLinux"),
		Type:              pulumi.String("VirtualMachineScaleSets"),
		Tags:              env.Tags(),
	}
	if a.KubernetesVersion != "" {
		poolArgs.OrchestratorVersion = pulumi.String(a.KubernetesVersion)
	}
	// The autoscaler owns the node count once the pool exists.
	pool, err := cs.NewAgentPool(ctx, name+"-user-pool", poolArgs, parent, pulumi.IgnoreChanges([]string{"count"}))
	if err != nil {
		return nil, fmt.Errorf("user node pool: %w", err)
	}
	c.Cluster, c.UserPool = cluster, pool
	c.ClusterID = cluster.ID().ToStringOutput()
	c.ClusterName = cluster.Name
	c.NodeResourceGroup = cluster.NodeResourceGroup.Elem()
	c.OIDCIssuerURL = cluster.OidcIssuerProfile.IssuerURL().Elem()
	c.KubeletObjectID = cluster.IdentityProfile.MapIndex(pulumi.String("kubeletidentity")).ObjectId().Elem()
	deployer, deployerType := a.DeployerObjectID, a.DeployerType(os.Getenv)
	if deployer == "" {
		deployer = env.DeployerObjectID
	}
	c.DeployerAccess, err = env.GrantPrincipal(ctx, name+"-deployer-rbac-cluster-admin", pulumi.String(deployer), deployerType,
		base.RoleAKSRBACClusterAdmin, c.ClusterID, parent)
	if err != nil {
		return nil, err
	}
	if ingress {
		routing := cluster.IngressProfile.WebAppRouting().Identity().ObjectId().Elem()
		cert := pulumi.Sprintf("%s/certificates/%s", args.KeyVaultID, env.Config.Workloads.APITLSCertificateName)
		access, err := env.Grant(ctx, name+"-app-routing-tls-cert", routing, base.RoleKeyVaultCertificateUser, cert, parent)
		if err != nil {
			return nil, err
		}
		c.IngressCertificateAccess = access
	}
	if _, err := env.Grant(ctx, name+"-kubelet-acr-pull", c.KubeletObjectID, base.RoleAcrPull, args.RegistryID, parent); err != nil {
		return nil, err
	}
	if err := env.Diagnose(ctx, name+"-diagnostics", c.ClusterID, base.Diagnostics{
		LogCategories: []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-audit-admin", "cluster-autoscaler", "guard"},
		Metrics:       []string{"AllMetrics"},
	}, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterId":         c.ClusterID,
		"clusterName":       c.ClusterName,
		"nodeResourceGroup": c.NodeResourceGroup,
		"oidcIssuerUrl":     c.OIDCIssuerURL,
		"kubeletObjectId":   c.KubeletObjectID,
		"deployerAccessId":  c.DeployerAccess.ID(),
	}); err != nil {
		return nil, fmt.Errorf("register aks outputs: %w", err)
	}
	return c, nil
}
