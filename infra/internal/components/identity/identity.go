package identity

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative/managedidentity"
	"github.com/sluicehq/sluice/infra/internal/components/base"
)

// Type is the component's type token.
const Type = "sluice:components:WorkloadIdentities"

// Audience is the token audience of Entra ID workload identity federation.
const Audience = "api://AzureADTokenExchange"

// Grant is one role on one scope.
type Grant struct {
	// Label names the grant in resource names, e.g. "events-receiver".
	Label string
	Role  string
	Scope pulumi.StringInput
}

// Workload is a workload's identity needs.
type Workload struct {
	Name   string
	Grants []Grant
	// AlsoServiceAccounts are further service accounts federated to the
	// same identity (a credential each): pods that do the workload's own
	// work under another Kubernetes service account, with the workload's
	// Azure and database rights and nothing more.
	AlsoServiceAccounts []string
	// DataAccess are data-plane grants outside Azure RBAC (e.g. Redis
	// access policies), given the identity's principal id.
	DataAccess []func(ctx *pulumi.Context, name string, principalID pulumi.StringInput) error
}

// Args are the component's inputs.
type Args struct {
	Workloads []Workload
	// Namespace is the Kubernetes namespace of the service accounts.
	Namespace string
	// Issuer is the AKS OIDC issuer URL.
	Issuer pulumi.StringInput
}

// Identity is one workload's identity.
type Identity struct {
	Name           pulumi.StringOutput
	ClientID       pulumi.StringOutput
	PrincipalID    pulumi.StringOutput
	ServiceAccount string
}

// Identities is the component.
type Identities struct {
	pulumi.ResourceState

	// ByWorkload maps a workload name to its identity.
	ByWorkload map[string]Identity
	// Resources are the identities, federated credentials and role
	// assignments, for what must wait for them: depend on these, not on the
	// component, which the SDK expands into the children registered so far.
	Resources []pulumi.Resource
}

// Subject is the federated credential subject of a service account.
func Subject(namespace, serviceAccount string) string {
	return "system:serviceaccount:" + namespace + ":" + serviceAccount
}

// New declares the identities, their federated credentials and grants.
func New(ctx *pulumi.Context, name string, env *base.Env, args Args, opts ...pulumi.ResourceOption) (*Identities, error) {
	c := &Identities{ByWorkload: map[string]Identity{}}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register identities: %w", err)
	}
	parent := pulumi.Parent(c)
	var previous pulumi.Resource
	outputs := pulumi.Map{}
	for _, w := range args.Workloads {
		id, err := managedidentity.NewUserAssignedIdentity(ctx, name+"-"+w.Name, &managedidentity.UserAssignedIdentityArgs{
			ResourceGroupName: env.ResourceGroupName,
			Location:          env.Location(),
			Tags:              env.Tags(),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("identity %s: %w", w.Name, err)
		}
		ficOpts := []pulumi.ResourceOption{parent}
		if previous != nil {
			ficOpts = append(ficOpts, pulumi.DependsOn([]pulumi.Resource{previous}))
		}
		fic, err := managedidentity.NewFederatedIdentityCredential(ctx, name+"-"+w.Name+"-federation", &managedidentity.FederatedIdentityCredentialArgs{
			ResourceGroupName:                       env.ResourceGroupName,
			ResourceName:                            id.Name,
			FederatedIdentityCredentialResourceName: pulumi.String("aks-" + w.Name),
			Issuer:                                  args.Issuer,
			Subject:                                 pulumi.String(Subject(args.Namespace, w.Name)),
			Audiences:                               pulumi.StringArray{pulumi.String(Audience)},
		}, ficOpts...)
		if err != nil {
			return nil, fmt.Errorf("federated credential %s: %w", w.Name, err)
		}
		previous = fic
		c.Resources = append(c.Resources, id, fic)
		for _, sa := range w.AlsoServiceAccounts {
			// Serialised after the one before, like every credential.
			also, err := managedidentity.NewFederatedIdentityCredential(ctx, name+"-"+sa+"-federation", &managedidentity.FederatedIdentityCredentialArgs{
				ResourceGroupName:                       env.ResourceGroupName,
				ResourceName:                            id.Name,
				FederatedIdentityCredentialResourceName: pulumi.String("aks-" + sa),
				Issuer:                                  args.Issuer,
				Subject:                                 pulumi.String(Subject(args.Namespace, sa)),
				Audiences:                               pulumi.StringArray{pulumi.String(Audience)},
			}, parent, pulumi.DependsOn([]pulumi.Resource{previous}))
			if err != nil {
				return nil, fmt.Errorf("federated credential %s: %w", sa, err)
			}
			previous = also
			c.Resources = append(c.Resources, also)
		}
		for _, g := range w.Grants {
			ra, err := env.Grant(ctx, name+"-"+w.Name+"-"+g.Label, id.PrincipalId, g.Role, g.Scope, parent)
			if err != nil {
				return nil, err
			}
			c.Resources = append(c.Resources, ra)
		}
		for i, grant := range w.DataAccess {
			if err := grant(ctx, fmt.Sprintf("%s-%s-data-%d", name, w.Name, i), id.PrincipalId); err != nil {
				return nil, fmt.Errorf("data access for %s: %w", w.Name, err)
			}
		}
		c.ByWorkload[w.Name] = Identity{Name: id.Name, ClientID: id.ClientId, PrincipalID: id.PrincipalId, ServiceAccount: w.Name}
		outputs[w.Name+"ClientId"] = id.ClientId
	}
	if err := ctx.RegisterResourceOutputs(c, outputs); err != nil {
		return nil, fmt.Errorf("register identity outputs: %w", err)
	}
	return c, nil
}
