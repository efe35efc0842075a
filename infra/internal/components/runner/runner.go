package runner

import (
	"encoding/base64"
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/compute/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/keyvault/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumiconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/config"
)

// Type is the component's type token.
const Type = "sluice:components:DeployRunner"

// KeySecretName is the Key Vault secret holding the GitHub App (the JSON of
// config.GitHubAppConfig: app id, installation id, private key).
const KeySecretName = "github-runner-app"

// PreviewAppPlaceholder stands in for the GitHub App in a preview of a stack
// whose secret is not set yet; up refuses to run without it.
const PreviewAppPlaceholder = "preview-placeholder: set sluice:deployRunnerGithubApp"

// NoLoginSSHKey is the public key the instances carry because Azure requires
// one: its private half was discarded when it was generated, so nobody can
// log in with it. Set sluice:deployRunnerSshPublicKey for break-glass access.
const NoLoginSSHKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDQSGhLkVpr1GsaR0+Oktp/Hm1/mjcvlNMsyONBeAiAE3J0RPKpPIOsNmMmHfskugcIXg5cRq3kGuGiaxZfjHlyQMLUTz7XaY5v0q1BNuOaKRSVqzQRjghzco4kCrp89EXgb8LtvpxLmjfmGVIxvX4C5rktZqMctwmH9hwSuyKqoGBBehbw/xYpd2fDe2bNsyWHIq10drkEy5VcCz+CgpHZ6kWZB5k6JePp5Szzcv/hNHCSl4ev2YX3BgG21zPgfGpokTnNb7/kPbJ/yCcj2dBV8aJgWTRtMks91Nr0TwFWL37DMOA7ve06flZLgk19CUnkWwIXwKHNDEEqzVuljuJ7nusZd1xLiF6HWBr4TfvQBygtdyXaOznb/Zj6Nm6SKO9CsVFQTZYuiCQjb56gGS0e8BQBfZlmYZeqSGhjVnWdw7mm/pZqqVKHYYGVSFZFVu0HaE/+FiAOVqBWgolkCDFp5E+hm5XOFbTn7WzAXTyZHTxB/pGyohGQq9XwwcckvBc= sluice-deploy-runner-no-login"

// AdminUser is the instances' administrator account (SSH only).
const AdminUser = "azureuser"

// Args are what the runner needs from other components.
type Args struct {
	SubnetID  pulumi.StringInput
	Subnet    pulumi.Resource // the subnet with its NAT gateway, created first
	VaultName pulumi.StringInput
	VaultURI  pulumi.StringInput // https://<vault>.vault.azure.net/
}

// Runner is the component.
type Runner struct {
	pulumi.ResourceState

	ScaleSetName pulumi.StringOutput
	PrincipalID  pulumi.StringOutput
	Label        pulumi.StringOutput
}

// New declares the runner scale set, its key secret and its one grant.
func New(ctx *pulumi.Context, name string, env *base.Env, args Args, opts ...pulumi.ResourceOption) (*Runner, error) {
	c := &Runner{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register deploy runner: %w", err)
	}
	parent := pulumi.Parent(c)
	cfg := env.Config
	d := cfg.DeployRunner

	key, err := appKey(ctx)
	if err != nil {
		return nil, err
	}
	secret, err := keyvault.NewSecret(ctx, name+"-app-key", &keyvault.SecretArgs{
		ResourceGroupName: env.ResourceGroupName,
		VaultName:         args.VaultName,
		SecretName:        pulumi.String(KeySecretName),
		Properties: keyvault.SecretPropertiesArgs{
			Value:       key,
			ContentType: pulumi.String("application/json: the GitHub App that registers the deploy runners (appId, installationId, privateKey)"),
		},
		Tags: env.Tags(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("runner app key secret: %w", err)
	}
	userData := pulumi.All(args.VaultURI).ApplyT(func(v []any) (string, error) {
		s := DefaultSettings(d.Repository, cfg.RunnerLabel(), fmt.Sprintf("%ssecrets/%s", v[0].(string), KeySecretName))
		doc, err := CloudInit(s)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString([]byte(doc)), nil
	}).(pulumi.StringOutput)
	sshKey := d.SSHPublicKey
	if sshKey == "" {
		sshKey = NoLoginSSHKey
	}
	deps := []pulumi.Resource{secret}
	if args.Subnet != nil {
		deps = append(deps, args.Subnet)
	}
	vmss, err := compute.NewVirtualMachineScaleSet(ctx, name+"-vmss", &compute.VirtualMachineScaleSetArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		VmScaleSetName:    pulumi.String("vmss-sluice-runner-" + cfg.Stack),
		OrchestrationMode: pulumi.String("Uniform"),
		Sku: compute.SkuArgs{
			Name:     pulumi.String(d.VMSize),
			Tier:     pulumi.String("Standard"),
			Capacity: pulumi.Float64(float64(d.Instances)),
		},
		Identity:      compute.VirtualMachineScaleSetIdentityArgs{Type: compute.ResourceIdentityTypeSystemAssigned},
		Overprovision: pulumi.Bool(false), // extra instances would register extra runners
		// A changed model (new cloud-init, image) reimages the instances:
		// runners hold no state between jobs.
		UpgradePolicy: compute.UpgradePolicyArgs{Mode: compute.UpgradeModeAutomatic},
		Zones:         env.Zones(),
		VirtualMachineProfile: compute.VirtualMachineScaleSetVMProfileArgs{
			OsProfile: compute.VirtualMachineScaleSetOSProfileArgs{
				ComputerNamePrefix: pulumi.String("runner"),
				AdminUsername:      pulumi.String(AdminUser),
				CustomData:         userData,
				LinuxConfiguration: compute.LinuxConfigurationArgs{
					DisablePasswordAuthentication: pulumi.Bool(true),
					ProvisionVMAgent:              pulumi.Bool(true),
					Ssh: compute.SshConfigurationArgs{PublicKeys: compute.SshPublicKeyTypeArray{compute.SshPublicKeyTypeArgs{
						Path:    pulumi.String("/home/" + AdminUser + "/.ssh/authorized_keys"),
						KeyData: pulumi.String(sshKey),
					}}},
				},
			},
			StorageProfile: compute.VirtualMachineScaleSetStorageProfileArgs{
				ImageReference: compute.ImageReferenceArgs{
					Publisher: pulumi.String("Canonical"),
					Offer:     pulumi.String("ubuntu-24_04-lts"),
					Sku:       pulumi.String("server"),
					Version:   pulumi.String("latest"),
				},
				OsDisk: compute.VirtualMachineScaleSetOSDiskArgs{
					CreateOption: pulumi.String("FromImage"),
					Caching:      compute.CachingTypesReadWrite,
					DiskSizeGB:   pulumi.Int(128),
					ManagedDisk:  compute.VirtualMachineScaleSetManagedDiskParametersArgs{StorageAccountType: pulumi.String("Premium_LRS")},
				},
			},
			SecurityProfile: compute.SecurityProfileArgs{
				SecurityType: pulumi.String("TrustedLaunch"),
				UefiSettings: compute.UefiSettingsArgs{SecureBootEnabled: pulumi.Bool(true), VTpmEnabled: pulumi.Bool(true)},
			},
			NetworkProfile: compute.VirtualMachineScaleSetNetworkProfileArgs{
				NetworkInterfaceConfigurations: compute.VirtualMachineScaleSetNetworkConfigurationArray{compute.VirtualMachineScaleSetNetworkConfigurationArgs{
					Name:    pulumi.String("runner-nic"),
					Primary: pulumi.Bool(true),
					// No public address: the subnet's NAT gateway carries the outbound traffic.
					IpConfigurations: compute.VirtualMachineScaleSetIPConfigurationArray{compute.VirtualMachineScaleSetIPConfigurationArgs{
						Name:    pulumi.String("ipconfig"),
						Primary: pulumi.Bool(true),
						Subnet:  compute.ApiEntityReferenceArgs{Id: args.SubnetID},
					}},
				}},
			},
		},
		Tags: env.Tags(),
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, fmt.Errorf("runner scale set: %w", err)
	}
	principal := vmss.Identity.ApplyT(func(id *compute.VirtualMachineScaleSetIdentityResponse) string {
		if id == nil {
			return ""
		}
		return id.PrincipalId
	}).(pulumi.StringOutput)
	if _, err := env.Grant(ctx, name+"-app-key-reader", principal, base.RoleKeyVaultSecretsUser, secret.ID(), parent); err != nil {
		return nil, err
	}
	c.ScaleSetName = vmss.Name
	c.PrincipalID = principal
	c.Label = pulumi.String(cfg.RunnerLabel()).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"scaleSetName": c.ScaleSetName,
		"principalId":  c.PrincipalID,
		"label":        c.Label,
	}); err != nil {
		return nil, fmt.Errorf("register deploy runner outputs: %w", err)
	}
	return c, nil
}

// appKey is the GitHub App from the stack's secret config, checked, as a
// secret. A preview without it uses a placeholder (and says so); up refuses.
func appKey(ctx *pulumi.Context) (pulumi.StringInput, error) {
	if _, ok := ctx.GetConfig(config.GitHubAppConfig); ok {
		return pulumiconfig.GetSecret(ctx, config.GitHubAppConfig).ApplyT(func(raw string) (string, error) {
			if _, err := config.ParseGitHubApp(raw); err != nil {
				return "", err
			}
			return raw, nil
		}).(pulumi.StringOutput), nil
	}
	if !ctx.DryRun() {
		return nil, fmt.Errorf("%s is not set: the deploy runner registers through that GitHub App; run `pulumi config set --secret %s < app.json` (infra/DELIVERY.md, Private clusters)", config.GitHubAppConfig, config.GitHubAppConfig)
	}
	_ = ctx.Log.Warn(config.GitHubAppConfig+" is not set: the preview uses a placeholder; up needs it", nil)
	return pulumi.ToSecret(pulumi.String(PreviewAppPlaceholder)).(pulumi.StringOutput), nil
}
