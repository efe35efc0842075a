package workloads_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/components/workloads"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/infra/internal/platform"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// Type tokens of the ingress objects.
const (
	tIngress = "kubernetes:networking.k8s.io/v1:Ingress"
	tNginx   = "kubernetes:approuting.kubernetes.azure.com/v1alpha1:NginxIngressController"
)

// Facts of the AKS application routing add-on the tests hold the program to.
const (
	publicClass     = "webapprouting.kubernetes.azure.com"
	internalClass   = "nginx-internal"
	controllersNS   = "app-routing-system"
	tlsAnnotation   = "kubernetes.azure.com/tls-cert-keyvault-uri"
	apiServicePort  = 80
	certificateUser = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba" // Key Vault Certificate User
)

// checkAPIIngressPolicy: api pods accept their port from the ingress
// controllers' namespace only when the api has an ingress, from anyone
// without one.
func checkAPIIngressPolicy(t *testing.T, r *run, mode string) {
	t.Helper()
	rules := policyRules(r.named(tPolicy, "api-ingress"), "ingress")
	port := []string{fmt.Sprintf("TCP/%d", workloads.HTTPPort)}
	if len(rules) != 1 || !slices.Equal(rules[0].ports, port) {
		t.Fatalf("%s: api-ingress rules %+v", r.stack, rules)
	}
	if mode == "none" {
		if len(rules[0].peers) != 0 {
			t.Errorf("%s: api-ingress without an ingress limits peers to %v", r.stack, rules[0].peers)
		}
		return
	}
	if len(rules[0].peers) != 1 || !strings.Contains(rules[0].peers[0], "kubernetes.io/metadata.name:"+controllersNS) {
		t.Errorf("%s: api-ingress peers %v, want the %s namespace only", r.stack, rules[0].peers, controllersNS)
	}
}

// runWith runs the program for stack with config overrides.
func runWith(t *testing.T, stack string, overrides map[string]string) *run {
	t.Helper()
	values, err := config.StackValues(roottest.Root(t), stack)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range overrides {
		values[config.Namespace+":"+k] = v
	}
	t.Setenv(config.ImagesFileEnv, "")
	m, err := mocks.Run(platform.Program, stack, values)
	if err != nil {
		t.Fatalf("%s %v: %v", stack, overrides, err)
	}
	cfg, err := config.Load(stack, func(k string) (string, bool) { v, ok := values[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return &run{t: t, stack: stack, m: m, cfg: cfg}
}

// TestAPIIngress: for each sluice:apiIngress mode, the api is reachable from
// outside the cluster only through the application routing add-on, with
// TLS from the stack's Key Vault, on the configured host; the network
// policy admits the add-on's controllers; and the Ingress waits for the
// add-on (the cluster) and its grant on the certificate.
func TestAPIIngress(t *testing.T) {
	const host = "api.test.example.com"
	for _, mode := range []string{"none", "internal", "public"} {
		t.Run(mode, func(t *testing.T) {
			o := map[string]string{"apiIngress": mode, "apiHostname": host, "apiTlsCertificateName": "api-cert"}
			if mode == "none" {
				o["apiHostname"], o["apiTlsCertificateName"] = "", ""
			}
			r := runWith(t, "staging", o)
			cluster := r.one(tCluster)
			routing := mocks.Lookup(cluster.Inputs, "ingressProfile.webAppRouting.enabled") == true
			ingresses := r.all(tIngress)
			checkAPIIngressPolicy(t, r, mode)
			if mode == "none" {
				if routing || len(ingresses) != 0 || len(r.all(tNginx)) != 0 {
					t.Errorf("no ingress asked, got routing %v, %d ingresses", routing, len(ingresses))
				}
				return
			}
			if !routing {
				t.Error("the cluster does not enable the application routing add-on")
			}
			ing := r.one(tIngress)
			vault := mocks.String(r.one(tVault).Outputs, "name")
			r.expect(ing, map[string]any{
				"spec.ingressClassName":                                 map[string]string{"public": publicClass, "internal": internalClass}[mode],
				"spec.rules.0.host":                                     host,
				"spec.rules.0.http.paths.0.backend.service.name":        workloads.API,
				"spec.rules.0.http.paths.0.backend.service.port.number": float64(apiServicePort),
				"spec.tls.0.hosts.0":                                    host,
				"spec.tls.0.secretName":                                 "keyvault-api",
			})
			ann := mocks.Value(ing.Inputs, "metadata.annotations").ObjectValue()
			if got, want := ann[tlsAnnotation].StringValue(), "https://"+vault+".vault.azure.net/certificates/api-cert"; got != want {
				t.Errorf("certificate annotation %q, want %q", got, want)
			}
			svc := r.named(tService, workloads.API)
			if mocks.Lookup(svc.Inputs, "spec.ports.0.port") != float64(apiServicePort) {
				t.Errorf("the api Service's port is %v, the Ingress routes to %d", mocks.Lookup(svc.Inputs, "spec.ports.0.port"), apiServicePort)
			}
			got := reach(r.m, ing)
			if !got[cluster.URN] {
				t.Error("the Ingress does not wait for the cluster (the add-on)")
			}
			// The add-on's identity reads the certificate, and only it.
			routingID := mocks.String(cluster.Outputs, "ingressProfile.webAppRouting.identity.objectId")
			var grant *mocks.Resource
			for _, ra := range r.all(tRole) {
				if mocks.String(ra.Inputs, "principalId") == routingID && routingID != "" {
					grant = ra
				}
			}
			if grant == nil {
				t.Fatal("the application routing identity has no role on the certificate")
			}
			if !strings.HasSuffix(mocks.String(grant.Inputs, "roleDefinitionId"), "/"+certificateUser) ||
				mocks.String(grant.Inputs, "scope") != r.one(tVault).ID+"/certificates/api-cert" {
				t.Errorf("add-on grant: role %s on %s", mocks.String(grant.Inputs, "roleDefinitionId"), mocks.String(grant.Inputs, "scope"))
			}
			if !got[grant.URN] {
				t.Error("the Ingress does not wait for the add-on's grant on the certificate")
			}
			ctrls := r.all(tNginx)
			if mode == "public" {
				if len(ctrls) != 0 {
					t.Errorf("public ingress declares %d controllers; the add-on's default one is public", len(ctrls))
				}
				return
			}
			if len(ctrls) != 1 {
				t.Fatalf("internal ingress: %d NginxIngressControllers, want 1", len(ctrls))
			}
			ctrl := ctrls[0]
			r.expect(ctrl, map[string]any{
				"spec.ingressClassName": internalClass,
			})
			lb := mocks.Value(ctrl.Inputs, "spec.loadBalancerAnnotations").ObjectValue()
			if lb["service.beta.kubernetes.io/azure-load-balancer-internal"].StringValue() != "true" {
				t.Errorf("internal controller load balancer annotations %v", lb)
			}
			if !got[ctrl.URN] || !reach(r.m, ctrl)[cluster.URN] {
				t.Error("the internal controller is not ordered after the cluster and before the Ingress")
			}
		})
	}
}
