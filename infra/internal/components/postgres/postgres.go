package postgres

import (
	"fmt"

	pg "github.com/pulumi/pulumi-azure-native-sdk/dbforpostgresql/v2/v20240801"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/privatelink"
	"github.com/sluicehq/sluice/infra/internal/config"
)

// Type is the component's type token.
const Type = "sluice:components:Postgres"

// Database is the application database.
const Database = "sluice"

// Ports of the server and of its built-in PgBouncer.
const (
	ServerPort    = 5432
	PgBouncerPort = 6432
)

// Parameter is one server parameter.
type Parameter struct{ Name, Value string }

// Parameters are the server parameters for cfg, in the order they are
// applied: TLS 1.2 or later only, then PgBouncer in transaction pooling
// mode when enabled.
func Parameters(cfg config.Postgres) []Parameter {
	ps := []Parameter{
		{"require_secure_transport", "on"},
		{"ssl_min_protocol_version", "TLSv1.2"},
	}
	if cfg.PgBouncer {
		ps = append(ps, Parameter{"pgbouncer.enabled", "true"}, Parameter{"pgbouncer.pool_mode", "transaction"})
	}
	return ps
}

// Postgres is the component.
type Postgres struct {
	pulumi.ResourceState

	ServerID   pulumi.StringOutput
	ServerName pulumi.StringOutput
	Host       pulumi.StringOutput
	// Port is PgBouncer's (6432) when it is enabled, else 5432.
	Port pulumi.IntOutput

	// last is the latest write to the server; the next one waits for it.
	last   pulumi.Resource
	env    *base.Env
	name   string
	parent pulumi.ResourceOption
	// dns is the private endpoint's VNet link and DNS zone group: a
	// client inside the VNet resolves the server only once they exist.
	dns []pulumi.Resource
}

// AddAdministrator registers a managed identity as a further Entra ID
// administrator of the server (several are allowed), after every earlier
// write to the server. Its principal name is the identity's name, which
// becomes its PostgreSQL role.
func (c *Postgres) AddAdministrator(ctx *pulumi.Context, label string, objectID, principalName pulumi.StringInput) (pulumi.Resource, error) {
	admin, err := pg.NewAdministrator(ctx, c.name+"-entra-admin-"+label, &pg.AdministratorArgs{
		ResourceGroupName: c.env.ResourceGroupName,
		ServerName:        c.ServerName,
		ObjectId:          objectID,
		PrincipalName:     principalName,
		PrincipalType:     pulumi.String("ServicePrincipal"),
		TenantId:          pulumi.String(c.env.TenantID),
	}, c.parent, pulumi.DependsOn([]pulumi.Resource{c.last}))
	if err != nil {
		return nil, fmt.Errorf("entra administrator %s: %w", label, err)
	}
	c.last = admin
	return admin, nil
}

// Ready are what a client waits for: the latest write to the server (once
// it exists, so do the database, the administrators, the server parameters
// and the private endpoint) and the endpoint's DNS. What logs in to the
// server waits for them.
func (c *Postgres) Ready() []pulumi.Resource {
	return append([]pulumi.Resource{c.last}, c.dns...)
}

// New declares the server and everything on it.
func New(ctx *pulumi.Context, name string, env *base.Env, opts ...pulumi.ResourceOption) (*Postgres, error) {
	c := &Postgres{env: env, name: name}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register postgres: %w", err)
	}
	parent := pulumi.Parent(c)
	c.parent = parent
	p := env.Config.Postgres
	geo := "Disabled"
	if p.GeoRedundantBackup {
		geo = "Enabled"
	}
	args := &pg.ServerArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		Version:           pulumi.String(p.Version),
		Sku:               pg.SkuArgs{Name: pulumi.String(p.SKUName), Tier: pulumi.String(config.PostgresTier(p.SKUName))},
		Storage:           pg.StorageArgs{StorageSizeGB: pulumi.Int(p.StorageGB), AutoGrow: pulumi.String("Enabled")},
		Backup:            pg.BackupTypeArgs{BackupRetentionDays: pulumi.Int(p.BackupRetentionDays), GeoRedundantBackup: pulumi.String(geo)},
		HighAvailability:  highAvailability(env.Config),
		AuthConfig: pg.AuthConfigArgs{
			ActiveDirectoryAuth: pulumi.String("Enabled"),
			PasswordAuth:        pulumi.String("Disabled"),
			TenantId:            pulumi.String(env.TenantID),
		},
		Network:    pg.NetworkArgs{PublicNetworkAccess: env.PublicNetworkAccess()},
		CreateMode: pulumi.String("Default"),
		Tags:       env.Tags(),
	}
	if len(env.Config.Zones) > 0 {
		args.AvailabilityZone = pulumi.String(env.Config.Zones[0])
	}
	server, err := pg.NewServer(ctx, name, args, env.DataStoreOptions(parent)...)
	if err != nil {
		return nil, fmt.Errorf("postgres server: %w", err)
	}
	// Every write below waits for the previous one.
	previous := []pulumi.Resource{server}
	chain := func() pulumi.ResourceOption { return pulumi.DependsOn(previous) }
	adminID := p.AdminObjectID
	if adminID == "" {
		adminID = env.DeployerObjectID
	}
	admin, err := pg.NewAdministrator(ctx, name+"-entra-admin", &pg.AdministratorArgs{
		ResourceGroupName: env.ResourceGroupName,
		ServerName:        server.Name,
		ObjectId:          pulumi.String(adminID),
		PrincipalName:     pulumi.String(p.AdminPrincipalName),
		PrincipalType:     pulumi.String(p.AdminPrincipalType),
		TenantId:          pulumi.String(env.TenantID),
	}, parent, chain())
	if err != nil {
		return nil, fmt.Errorf("entra administrator: %w", err)
	}
	previous = []pulumi.Resource{admin}
	db, err := pg.NewDatabase(ctx, name+"-db-"+Database, &pg.DatabaseArgs{
		ResourceGroupName: env.ResourceGroupName,
		ServerName:        server.Name,
		DatabaseName:      pulumi.String(Database),
		Charset:           pulumi.String("UTF8"),
		Collation:         pulumi.String("en_US.utf8"),
	}, env.DataStoreOptions(parent, chain())...)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", Database, err)
	}
	previous = []pulumi.Resource{db}
	if !env.Config.PrivateNetworking {
		// Without private networking the cluster reaches the server over its
		// public endpoint from Azure egress addresses; Entra ID still
		// authenticates every connection.
		fw, err := pg.NewFirewallRule(ctx, name+"-allow-azure", &pg.FirewallRuleArgs{
			ResourceGroupName: env.ResourceGroupName,
			ServerName:        server.Name,
			FirewallRuleName:  pulumi.String("AllowAllAzureServicesAndResourcesWithinAzureIps"),
			StartIpAddress:    pulumi.String("0.0.0.0"),
			EndIpAddress:      pulumi.String("0.0.0.0"),
		}, parent, chain())
		if err != nil {
			return nil, fmt.Errorf("firewall rule: %w", err)
		}
		previous = []pulumi.Resource{fw}
	}
	for _, param := range Parameters(p) {
		cfg, err := pg.NewConfiguration(ctx, name+"-param-"+param.Name, &pg.ConfigurationArgs{
			ResourceGroupName: env.ResourceGroupName,
			ServerName:        server.Name,
			ConfigurationName: pulumi.String(param.Name),
			Value:             pulumi.String(param.Value),
			Source:            pulumi.String("user-override"),
		}, parent, chain())
		if err != nil {
			return nil, fmt.Errorf("server parameter %s: %w", param.Name, err)
		}
		previous = []pulumi.Resource{cfg}
	}
	c.ServerID = server.ID().ToStringOutput()
	c.ServerName = server.Name
	c.Host = server.FullyQualifiedDomainName
	port := ServerPort
	if p.PgBouncer {
		port = PgBouncerPort
	}
	c.Port = pulumi.Int(port).ToIntOutput()
	// The private endpoint connection, the diagnostic setting and the lock
	// are writes to the server too: they continue the chain.
	pe, err := privatelink.ConnectAfter(ctx, name+"-link", env, privatelink.Postgres, c.ServerID, previous, parent)
	if err != nil {
		return nil, fmt.Errorf("postgres private link: %w", err)
	}
	if pe != nil {
		previous = []pulumi.Resource{pe.Connection}
		c.dns = pe.Ready
	}
	diag, err := env.DiagnosticSetting(ctx, name+"-diagnostics", c.ServerID, base.AllLogsAndMetrics, parent, chain())
	if err != nil {
		return nil, err
	}
	previous = []pulumi.Resource{diag}
	lock, err := env.LockResource(ctx, name+"-lock", c.ServerID, parent, chain())
	if err != nil {
		return nil, err
	}
	if lock != nil {
		previous = []pulumi.Resource{lock}
	}
	c.last = previous[0]
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"serverId":   c.ServerID,
		"serverName": c.ServerName,
		"host":       c.Host,
		"port":       c.Port,
		"database":   pulumi.String(Database),
	}); err != nil {
		return nil, fmt.Errorf("register postgres outputs: %w", err)
	}
	return c, nil
}

func highAvailability(cfg *config.Config) pg.HighAvailabilityArgs {
	if !cfg.Postgres.HighAvailability {
		return pg.HighAvailabilityArgs{Mode: pulumi.String("Disabled")}
	}
	if len(cfg.Zones) >= 2 {
		return pg.HighAvailabilityArgs{Mode: pulumi.String("ZoneRedundant"), StandbyAvailabilityZone: pulumi.String(cfg.Zones[1])}
	}
	return pg.HighAvailabilityArgs{Mode: pulumi.String("SameZone")}
}
