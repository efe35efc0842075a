package documentdb

import (
	"context"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
)

// ListDatabaseAccountKeysArgs are the arguments of listDatabaseAccountKeys.
type ListDatabaseAccountKeysArgs struct {
	AccountName       string `pulumi:"accountName"`
	ResourceGroupName string `pulumi:"resourceGroupName"`
}

// ListDatabaseAccountKeysResult holds an account's access keys.
type ListDatabaseAccountKeysResult struct {
	PrimaryMasterKey           string `pulumi:"primaryMasterKey"`
	PrimaryReadonlyMasterKey   string `pulumi:"primaryReadonlyMasterKey"`
	SecondaryMasterKey         string `pulumi:"secondaryMasterKey"`
	SecondaryReadonlyMasterKey string `pulumi:"secondaryReadonlyMasterKey"`
}

// ListDatabaseAccountKeysOutputArgs are the arguments in output form.
type ListDatabaseAccountKeysOutputArgs struct {
	AccountName       pulumi.StringInput `pulumi:"accountName"`
	ResourceGroupName pulumi.StringInput `pulumi:"resourceGroupName"`
}

// ElementType implements pulumi.Input.
func (ListDatabaseAccountKeysOutputArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*ListDatabaseAccountKeysArgs)(nil)).Elem()
}

// ListDatabaseAccountKeysResultOutput is the result in output form. The
// provider does not mark the keys secret: callers wrap what they keep in
// pulumi.ToSecret (the accessors below already do).
type ListDatabaseAccountKeysResultOutput struct{ *pulumi.OutputState }

// ElementType implements pulumi.Output.
func (ListDatabaseAccountKeysResultOutput) ElementType() reflect.Type {
	return reflect.TypeOf((*ListDatabaseAccountKeysResult)(nil)).Elem()
}

// ToListDatabaseAccountKeysResultOutput returns o.
func (o ListDatabaseAccountKeysResultOutput) ToListDatabaseAccountKeysResultOutput() ListDatabaseAccountKeysResultOutput {
	return o
}

// ToListDatabaseAccountKeysResultOutputWithContext returns o.
func (o ListDatabaseAccountKeysResultOutput) ToListDatabaseAccountKeysResultOutputWithContext(context.Context) ListDatabaseAccountKeysResultOutput {
	return o
}

// PrimaryMasterKey is the primary read-write key, as a secret.
func (o ListDatabaseAccountKeysResultOutput) PrimaryMasterKey() pulumi.StringOutput {
	return pulumi.ToSecret(o.ApplyT(func(v ListDatabaseAccountKeysResult) string { return v.PrimaryMasterKey })).(pulumi.StringOutput)
}

// SecondaryMasterKey is the secondary read-write key, as a secret.
func (o ListDatabaseAccountKeysResultOutput) SecondaryMasterKey() pulumi.StringOutput {
	return pulumi.ToSecret(o.ApplyT(func(v ListDatabaseAccountKeysResult) string { return v.SecondaryMasterKey })).(pulumi.StringOutput)
}

// ListDatabaseAccountKeysOutput invokes listDatabaseAccountKeys once its
// arguments are known.
func ListDatabaseAccountKeysOutput(ctx *pulumi.Context, args ListDatabaseAccountKeysOutputArgs, opts ...pulumi.InvokeOption) ListDatabaseAccountKeysResultOutput {
	return pulumi.ToOutputWithContext(ctx.Context(), args).
		ApplyT(func(v interface{}) (ListDatabaseAccountKeysResultOutput, error) {
			a := v.(ListDatabaseAccountKeysArgs)
			options := pulumi.InvokeOutputOptions{InvokeOptions: azurenative.InvokeOpts(opts)}
			return ctx.InvokeOutput(ListDatabaseAccountKeysToken, a, ListDatabaseAccountKeysResultOutput{}, options).(ListDatabaseAccountKeysResultOutput), nil
		}).(ListDatabaseAccountKeysResultOutput)
}

func init() {
	pulumi.RegisterOutputType(ListDatabaseAccountKeysResultOutput{})
}

// PrimaryReadonlyMasterKey is the primary read-only key, as a secret.
func (o ListDatabaseAccountKeysResultOutput) PrimaryReadonlyMasterKey() pulumi.StringOutput {
	return pulumi.ToSecret(o.ApplyT(func(v ListDatabaseAccountKeysResult) string { return v.PrimaryReadonlyMasterKey })).(pulumi.StringOutput)
}
