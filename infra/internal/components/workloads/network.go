package workloads

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PrivateRanges are the RFC 1918 ranges; "public addresses" below means
// everything else.
var PrivateRanges = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}

// port is one allowed TCP port, a number or an output (Redis, PostgreSQL).
type port struct {
	label string
	port  pulumi.Input
}

// flows are each workload's egress to the data services (DESIGN.md).
func (d *deployer) flows() map[string][]port {
	kafka := port{"event-hubs", pulumi.Int(KafkaPort)}
	cassandra := port{"cosmos", pulumi.Int(CassandraPort)}
	redis := port{"redis", d.args.RedisPort}
	postgres := port{"postgres", d.args.PostgresPort}
	return map[string][]port{
		Ingest:     {kafka, cassandra},
		Changefeed: {cassandra, redis},
		API:        {cassandra, redis, postgres},
		Enrich:     {cassandra, postgres, {"storage", pulumi.Int(443)}},
		Migrate:    {{"postgres-direct", pulumi.Int(PostgresDirectPort)}},
		Principals: {{"postgres-direct", pulumi.Int(PostgresDirectPort)}},
		Seed:       {postgres, {"storage", pulumi.Int(443)}},
		Stream:     {kafka, cassandra},
		// The Spark enrich pods do enrich's work.
		EnrichSpark: {cassandra, postgres, {"storage", pulumi.Int(443)}},
	}
}

// dataPeers is where the data services are: the private endpoints subnet
// with private networking, public addresses without it.
func (d *deployer) dataPeers() networkingv1.NetworkPolicyPeerArray {
	if d.cfg.PrivateNetworking {
		return networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
			IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String(d.cfg.Network.PrivateEndpointsSubnetCIDR)},
		}}
	}
	return publicPeers()
}

func publicPeers() networkingv1.NetworkPolicyPeerArray {
	return networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
		IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String("0.0.0.0/0"), Except: pulumi.ToStringArray(PrivateRanges)},
	}}
}

func tcp(p pulumi.Input) networkingv1.NetworkPolicyPortArgs {
	return networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: p}
}

func (d *deployer) policy(name string, spec networkingv1.NetworkPolicySpecArgs) error {
	if _, err := networkingv1.NewNetworkPolicy(d.ctx, d.name+"-netpol-"+name, &networkingv1.NetworkPolicyArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(d.ns), Labels: pulumi.StringMap{
			"app.kubernetes.io/part-of":    pulumi.String("sluice"),
			"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
		}},
		Spec: spec,
	}, d.with(pulumi.DependsOn([]pulumi.Resource{d.namespace}))...); err != nil {
		return fmt.Errorf("network policy %s: %w", name, err)
	}
	return nil
}

// networkPolicies deny all traffic in the namespace, then allow the flows
// the workloads need and nothing else. Kubernetes NetworkPolicy cannot
// name hosts, so the Entra ID token endpoint (login.microsoftonline.com,
// which has no private endpoint) is allowed as HTTPS to public addresses.
func (d *deployer) networkPolicies() error {
	all := metav1.LabelSelectorArgs{}
	if err := d.policy("default-deny", networkingv1.NetworkPolicySpecArgs{
		PodSelector: all,
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
	}); err != nil {
		return err
	}
	if err := d.policy("allow-dns", networkingv1.NetworkPolicySpecArgs{
		PodSelector: all,
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
				PodSelector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
			}},
			Ports: networkingv1.NetworkPolicyPortArray{
				networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
				tcp(pulumi.Int(53)),
			},
		}},
	}); err != nil {
		return err
	}
	if err := d.policy("allow-entra-id", networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{WorkloadIdentityUse: pulumi.String("true")}},
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
			To:    publicPeers(),
			Ports: networkingv1.NetworkPolicyPortArray{tcp(pulumi.Int(443))},
		}},
	}); err != nil {
		return err
	}
	flows := d.flows()
	egress := []string{Ingest, Changefeed, API, Enrich, Migrate, Principals, Seed}
	if d.cfg.Spark.Stream {
		egress = append(egress, Stream)
		if err := d.sparkPeerPolicies(Stream); err != nil {
			return err
		}
	}
	if d.cfg.Spark.EnrichOnSpark() {
		egress = append(egress, EnrichSpark)
		if err := d.enrichSparkPolicies(); err != nil {
			return err
		}
	}
	for _, w := range egress {
		var ports networkingv1.NetworkPolicyPortArray
		for _, p := range flows[w] {
			ports = append(ports, tcp(p.port))
		}
		if err := d.policy(w+"-egress", networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: selector(w)},
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress:      networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{To: d.dataPeers(), Ports: ports}},
		}); err != nil {
			return err
		}
	}
	// api answers clients on its port: only from the application routing
	// add-on's controllers when it has an ingress, from anywhere without
	// one (whatever the operator puts in front of the Service).
	apiRule := networkingv1.NetworkPolicyIngressRuleArgs{Ports: networkingv1.NetworkPolicyPortArray{tcp(pulumi.Int(HTTPPort))}}
	if peers := d.apiIngressPeers(); peers != nil {
		apiRule.From = peers
	}
	if err := d.policy("api-ingress", networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: selector(API)},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress:     networkingv1.NetworkPolicyIngressRuleArray{apiRule},
	}); err != nil {
		return err
	}
	// KEDA's operator reads ingest's consumer lag.
	return d.policy("ingest-from-keda", networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: selector(Ingest)},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
				PodSelector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app": pulumi.String("keda-operator")}},
			}},
			Ports: networkingv1.NetworkPolicyPortArray{tcp(pulumi.Int(HTTPPort))},
		}},
	})
}
