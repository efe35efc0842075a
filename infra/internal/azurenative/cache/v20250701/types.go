package v20250701

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EnterpriseSku is a cluster SKU, e.g. Balanced_B0. Capacity is only used by
// the retired Enterprise SKUs.
type EnterpriseSku struct {
	Capacity *int   `pulumi:"capacity"`
	Name     string `pulumi:"name"`
}

// EnterpriseSkuArgs is the input form of EnterpriseSku.
type EnterpriseSkuArgs struct {
	Capacity pulumi.IntPtrInput `pulumi:"capacity"`
	Name     pulumi.StringInput `pulumi:"name"`
}

// ElementType implements pulumi.Input.
func (EnterpriseSkuArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*EnterpriseSku)(nil)).Elem()
}

// EnterpriseSkuInput is satisfied by EnterpriseSkuArgs.
type EnterpriseSkuInput interface {
	pulumi.Input
	isEnterpriseSku()
}

func (EnterpriseSkuArgs) isEnterpriseSku() {}

// AccessPolicyAssignmentPropertiesUser is the Entra ID principal of an
// access policy assignment.
type AccessPolicyAssignmentPropertiesUser struct {
	ObjectId *string `pulumi:"objectId"`
}

// AccessPolicyAssignmentPropertiesUserArgs is the input form of
// AccessPolicyAssignmentPropertiesUser.
type AccessPolicyAssignmentPropertiesUserArgs struct {
	ObjectId pulumi.StringPtrInput `pulumi:"objectId"`
}

// ElementType implements pulumi.Input.
func (AccessPolicyAssignmentPropertiesUserArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*AccessPolicyAssignmentPropertiesUser)(nil)).Elem()
}

// AccessPolicyAssignmentPropertiesUserInput is satisfied by
// AccessPolicyAssignmentPropertiesUserArgs.
type AccessPolicyAssignmentPropertiesUserInput interface {
	pulumi.Input
	isAccessPolicyAssignmentPropertiesUser()
}

func (AccessPolicyAssignmentPropertiesUserArgs) isAccessPolicyAssignmentPropertiesUser() {}
