package managedidentity

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
)

// UserAssignedIdentity is a user-assigned managed identity.
type UserAssignedIdentity struct {
	pulumi.CustomResourceState

	// ClientId is the application id workloads put in their service
	// account annotation.
	ClientId pulumi.StringOutput `pulumi:"clientId"`
	Location pulumi.StringOutput `pulumi:"location"`
	Name     pulumi.StringOutput `pulumi:"name"`
	// PrincipalId is the object id role assignments refer to.
	PrincipalId pulumi.StringOutput    `pulumi:"principalId"`
	Tags        pulumi.StringMapOutput `pulumi:"tags"`
	TenantId    pulumi.StringOutput    `pulumi:"tenantId"`
	Type        pulumi.StringOutput    `pulumi:"type"`
}

type userAssignedIdentityArgs struct {
	Location          *string           `pulumi:"location"`
	ResourceGroupName string            `pulumi:"resourceGroupName"`
	ResourceName      *string           `pulumi:"resourceName"`
	Tags              map[string]string `pulumi:"tags"`
}

// UserAssignedIdentityArgs are the inputs of a UserAssignedIdentity.
type UserAssignedIdentityArgs struct {
	Location          pulumi.StringPtrInput
	ResourceGroupName pulumi.StringInput
	ResourceName      pulumi.StringPtrInput
	Tags              pulumi.StringMapInput
}

// ElementType implements pulumi.Input.
func (UserAssignedIdentityArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*userAssignedIdentityArgs)(nil)).Elem()
}

// NewUserAssignedIdentity registers an identity; ResourceGroupName is
// required, as in the SDK.
func NewUserAssignedIdentity(ctx *pulumi.Context, name string, args *UserAssignedIdentityArgs, opts ...pulumi.ResourceOption) (*UserAssignedIdentity, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	if args.ResourceGroupName == nil {
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	var r UserAssignedIdentity
	if err := ctx.RegisterResource(UserAssignedIdentityToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// FederatedIdentityCredential lets tokens of an external issuer (the AKS
// OIDC issuer) act as a user-assigned identity. Azure rejects concurrent
// writes of credentials on one identity: create them one after another.
type FederatedIdentityCredential struct {
	pulumi.CustomResourceState

	Audiences pulumi.StringArrayOutput `pulumi:"audiences"`
	Issuer    pulumi.StringOutput      `pulumi:"issuer"`
	Name      pulumi.StringOutput      `pulumi:"name"`
	Subject   pulumi.StringOutput      `pulumi:"subject"`
	Type      pulumi.StringOutput      `pulumi:"type"`
}

type federatedIdentityCredentialArgs struct {
	Audiences                               []string `pulumi:"audiences"`
	FederatedIdentityCredentialResourceName *string  `pulumi:"federatedIdentityCredentialResourceName"`
	Issuer                                  string   `pulumi:"issuer"`
	ResourceGroupName                       string   `pulumi:"resourceGroupName"`
	ResourceName                            string   `pulumi:"resourceName"`
	Subject                                 string   `pulumi:"subject"`
}

// FederatedIdentityCredentialArgs are the inputs of a FederatedIdentityCredential.
type FederatedIdentityCredentialArgs struct {
	Audiences                               pulumi.StringArrayInput
	FederatedIdentityCredentialResourceName pulumi.StringPtrInput
	Issuer                                  pulumi.StringInput
	ResourceGroupName                       pulumi.StringInput
	// ResourceName is the name of the identity the credential belongs to.
	ResourceName pulumi.StringInput
	Subject      pulumi.StringInput
}

// ElementType implements pulumi.Input.
func (FederatedIdentityCredentialArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*federatedIdentityCredentialArgs)(nil)).Elem()
}

// NewFederatedIdentityCredential registers a credential. Audiences, Issuer,
// ResourceGroupName, ResourceName and Subject are required, as in the SDK.
func NewFederatedIdentityCredential(ctx *pulumi.Context, name string, args *FederatedIdentityCredentialArgs, opts ...pulumi.ResourceOption) (*FederatedIdentityCredential, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	switch {
	case args.Audiences == nil:
		return nil, errors.New("invalid value for required argument 'Audiences'")
	case args.Issuer == nil:
		return nil, errors.New("invalid value for required argument 'Issuer'")
	case args.ResourceGroupName == nil:
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	case args.ResourceName == nil:
		return nil, errors.New("invalid value for required argument 'ResourceName'")
	case args.Subject == nil:
		return nil, errors.New("invalid value for required argument 'Subject'")
	}
	var r FederatedIdentityCredential
	if err := ctx.RegisterResource(FederatedIdentityCredentialToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
