package workloads

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The AKS application routing add-on (managed NGINX).
const (
	// PublicIngressClass is the add-on's default controller, behind a
	// public load balancer.
	PublicIngressClass = "webapprouting.kubernetes.azure.com"
	// InternalIngressClass is the controller this package declares for
	// internal ingress, behind an internal load balancer in the VNet.
	InternalIngressClass = "nginx-internal"
	// IngressControllerNamespace is where the add-on runs its controllers.
	IngressControllerNamespace = "app-routing-system"
	// TLSCertAnnotation makes the add-on serve a Key Vault certificate.
	TLSCertAnnotation = "kubernetes.azure.com/tls-cert-keyvault-uri"
	// APIIngressName is the Ingress' name; the add-on syncs the certificate
	// to the Secret "keyvault-<name>", which the Ingress' TLS names.
	APIIngressName = API
	// APIServicePort is the api Service's port.
	APIServicePort = 80
)

// IngressClass is the ingress class of a sluice:apiIngress mode ("" for
// none).
func IngressClass(mode string) string {
	switch mode {
	case "public":
		return PublicIngressClass
	case "internal":
		return InternalIngressClass
	}
	return ""
}

// ingress exposes the api Service through the application routing add-on:
// TLS with the stack's Key Vault certificate, the configured host only. The
// add-on's CRDs and controllers come with the cluster (d.ready holds it);
// the Ingress also waits for the add-on's grant on the certificate
// (platform passes it in DependsOn).
func (d *deployer) ingress() error {
	w := d.cfg.Workloads
	class := IngressClass(w.APIIngress)
	if class == "" {
		return nil
	}
	after := d.ready
	if w.APIIngress == "internal" {
		// The add-on's default controller is public; an internal one is
		// its own NginxIngressController (cluster-scoped) with an internal
		// Azure load balancer.
		ctrl, err := apiextensions.NewCustomResource(d.ctx, d.name+"-ingress-controller-internal", &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("approuting.kubernetes.azure.com/v1alpha1"),
			Kind:       pulumi.String("NginxIngressController"),
			Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(InternalIngressClass), Labels: pulumi.StringMap{
				"app.kubernetes.io/part-of":    pulumi.String("sluice"),
				"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
			}},
			OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
				"ingressClassName":     pulumi.String(InternalIngressClass),
				"controllerNamePrefix": pulumi.String(InternalIngressClass),
				"loadBalancerAnnotations": pulumi.StringMap{
					"service.beta.kubernetes.io/azure-load-balancer-internal": pulumi.String("true"),
				},
			}},
		}, d.with(pulumi.DependsOn([]pulumi.Resource{d.args.Cluster}))...)
		if err != nil {
			return fmt.Errorf("internal ingress controller: %w", err)
		}
		after = append(append([]pulumi.Resource{}, d.ready...), ctrl)
	}
	m := d.meta(APIIngressName, API)
	m.Annotations = pulumi.StringMap{
		TLSCertAnnotation: pulumi.Sprintf("https://%s.vault.azure.net/certificates/%s", d.args.KeyVaultName, w.APITLSCertificateName),
	}
	if _, err := networkingv1.NewIngress(d.ctx, d.name+"-api-ingress", &networkingv1.IngressArgs{
		Metadata: m,
		Spec: networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(class),
			Tls: networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
				Hosts:      pulumi.StringArray{pulumi.String(w.APIHostname)},
				SecretName: pulumi.String("keyvault-" + APIIngressName),
			}},
			Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
				Host: pulumi.String(w.APIHostname),
				Http: networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{networkingv1.HTTPIngressPathArgs{
					Path:     pulumi.String("/"),
					PathType: pulumi.String("Prefix"),
					Backend: networkingv1.IngressBackendArgs{Service: networkingv1.IngressServiceBackendArgs{
						Name: pulumi.String(API),
						Port: networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(APIServicePort)},
					}},
				}}},
			}},
		},
	}, d.with(pulumi.DependsOn(after))...); err != nil {
		return fmt.Errorf("api ingress: %w", err)
	}
	return nil
}

// apiIngressPeers are who may reach the api pods: the add-on's ingress
// controllers when the api has an ingress, anyone otherwise (no peer).
func (d *deployer) apiIngressPeers() networkingv1.NetworkPolicyPeerArray {
	if IngressClass(d.cfg.Workloads.APIIngress) == "" {
		return nil
	}
	return networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
		NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(IngressControllerNamespace)}},
	}}
}
