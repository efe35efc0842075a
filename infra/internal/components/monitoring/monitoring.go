package monitoring

import (
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/operationalinsights/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
)

// Type is the component's type token.
const Type = "sluice:components:Monitoring"

// Monitoring is the component.
type Monitoring struct {
	pulumi.ResourceState

	WorkspaceID   pulumi.StringOutput
	WorkspaceName pulumi.StringOutput
}

// New declares the workspace (pay-as-you-go, retention and daily cap from
// config, local auth off) and its own audit diagnostic setting, and points
// env.WorkspaceID at it.
func New(ctx *pulumi.Context, name string, env *base.Env, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	c := &Monitoring{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register monitoring: %w", err)
	}
	parent := pulumi.Parent(c)
	l := env.Config.Logs
	ws, err := operationalinsights.NewWorkspace(ctx, name+"-workspace", &operationalinsights.WorkspaceArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		Sku:               operationalinsights.WorkspaceSkuArgs{Name: pulumi.String("PerGB2018")},
		RetentionInDays:   pulumi.Int(l.RetentionDays),
		WorkspaceCapping:  operationalinsights.WorkspaceCappingArgs{DailyQuotaGb: pulumi.Float64(float64(l.DailyQuotaGB))},
		Features: operationalinsights.WorkspaceFeaturesArgs{
			DisableLocalAuth: pulumi.Bool(true),
			EnableLogAccessUsingOnlyResourcePermissions: pulumi.Bool(true),
		},
		Tags: env.Tags(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("log analytics workspace: %w", err)
	}
	c.WorkspaceID = ws.ID().ToStringOutput()
	c.WorkspaceName = ws.Name
	env.WorkspaceID = c.WorkspaceID
	if err := env.Diagnose(ctx, name+"-workspace-diagnostics", c.WorkspaceID, base.AllLogsAndMetrics, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"workspaceId":   c.WorkspaceID,
		"workspaceName": c.WorkspaceName,
	}); err != nil {
		return nil, fmt.Errorf("register monitoring outputs: %w", err)
	}
	return c, nil
}
