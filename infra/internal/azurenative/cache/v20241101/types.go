package v20241101

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Sku is a classic cache SKU: Name Basic/Standard/Premium, Family C (Basic,
// Standard) or P (Premium), Capacity the size.
type Sku struct {
	Capacity int    `pulumi:"capacity"`
	Family   string `pulumi:"family"`
	Name     string `pulumi:"name"`
}

// SkuArgs is the input form of Sku.
type SkuArgs struct {
	Capacity pulumi.IntInput    `pulumi:"capacity"`
	Family   pulumi.StringInput `pulumi:"family"`
	Name     pulumi.StringInput `pulumi:"name"`
}

// ElementType implements pulumi.Input.
func (SkuArgs) ElementType() reflect.Type { return reflect.TypeOf((*Sku)(nil)).Elem() }

// SkuInput is satisfied by SkuArgs.
type SkuInput interface {
	pulumi.Input
	isSku()
}

func (SkuArgs) isSku() {}

// RedisCommonPropertiesRedisConfiguration holds Redis settings; Sluice sets
// Entra ID authentication and the eviction policy.
type RedisCommonPropertiesRedisConfiguration struct {
	AadEnabled      *string `pulumi:"aadEnabled"`
	MaxmemoryPolicy *string `pulumi:"maxmemoryPolicy"`
}

// RedisCommonPropertiesRedisConfigurationArgs is the input form of
// RedisCommonPropertiesRedisConfiguration.
type RedisCommonPropertiesRedisConfigurationArgs struct {
	// AadEnabled is "true" to accept Entra ID tokens.
	AadEnabled      pulumi.StringPtrInput `pulumi:"aadEnabled"`
	MaxmemoryPolicy pulumi.StringPtrInput `pulumi:"maxmemoryPolicy"`
}

// ElementType implements pulumi.Input.
func (RedisCommonPropertiesRedisConfigurationArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*RedisCommonPropertiesRedisConfiguration)(nil)).Elem()
}

// RedisCommonPropertiesRedisConfigurationPtrInput is satisfied by
// RedisCommonPropertiesRedisConfigurationArgs.
type RedisCommonPropertiesRedisConfigurationPtrInput interface {
	pulumi.Input
	isRedisCommonPropertiesRedisConfiguration()
}

func (RedisCommonPropertiesRedisConfigurationArgs) isRedisCommonPropertiesRedisConfiguration() {}
