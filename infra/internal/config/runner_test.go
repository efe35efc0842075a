package config

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDeployRunnerSettings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"no subnet", map[string]string{"deployRunnerSubnetCidr": ""}, "sluice:deployRunnerSubnetCidr is empty"},
		{"subnet outside the VNet", map[string]string{"deployRunnerSubnetCidr": "10.99.0.0/28"}, "sluice:deployRunnerSubnetCidr 10.99.0.0/28 lies outside sluice:vnetCidr"},
		{"subnet overlaps the endpoints", map[string]string{"deployRunnerSubnetCidr": "10.60.8.0/28"}, "CIDR overlap: sluice:privateEndpointsSubnetCidr 10.60.8.0/24 overlaps sluice:deployRunnerSubnetCidr 10.60.8.0/28"},
		{"repository", map[string]string{"deployRunnerRepository": "https://github.com/sluicehq/sluice"}, "is not a GitHub repository (owner/name)"},
		{"size", map[string]string{"deployRunnerVmSize": "D4s_v5"}, "is not a VM size"},
		{"instances", map[string]string{"deployRunnerInstances": "0"}, "sluice:deployRunnerInstances"},
		{"ssh key", map[string]string{"deployRunnerSshPublicKey": "-----BEGIN OPENSSH PRIVATE KEY-----"}, "is not an OpenSSH public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load("prod", values(t, "prod", tc.overrides))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	c, err := load("prod", values(t, "prod", nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.DeployRunner.Enabled || c.RunnerLabel() != "sluice-prod" {
		t.Fatalf("prod: runner %+v, label %s; want the runner the workflows' sluice-prod jobs run on", c.DeployRunner, c.RunnerLabel())
	}
	// Without a runner its settings are not checked.
	if _, err := load("prod", values(t, "prod", map[string]string{"deployRunner": "false", "deployRunnerSubnetCidr": "", "deployRunnerRepository": ""})); err != nil {
		t.Errorf("no runner: %v", err)
	}
}

func TestParseGitHubApp(t *testing.T) {
	good := map[string]string{"appId": "123", "installationId": "456", "privateKey": "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"}
	enc := func(m map[string]string) string {
		b, _ := json.Marshal(m)
		return string(b)
	}
	if _, err := ParseGitHubApp(enc(good)); err != nil {
		t.Fatalf("a well-formed app: %v", err)
	}
	if _, err := ParseGitHubApp(OfflineGitHubApp); err != nil {
		t.Fatalf("the offline stand-in must pass the program's check: %v", err)
	}
	for name, tc := range map[string]struct {
		raw, want string
	}{
		"not JSON":       {"-----BEGIN RSA PRIVATE KEY-----", "is not JSON like"},
		"unknown field":  {`{"appId":"1","installationId":"2","privateKey":"x","clientSecret":"s"}`, "is not JSON like"},
		"app id":         {enc(map[string]string{"appId": "abc", "installationId": "456", "privateKey": good["privateKey"]}), "appId is not a GitHub App id"},
		"installation":   {enc(map[string]string{"appId": "1", "installationId": "", "privateKey": good["privateKey"]}), "installationId is not"},
		"key not PEM":    {enc(map[string]string{"appId": "1", "installationId": "2", "privateKey": "secret"}), "privateKey is not a PEM private key"},
		"public key PEM": {enc(map[string]string{"appId": "1", "installationId": "2", "privateKey": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"}), "privateKey is not a PEM private key"},
	} {
		_, err := ParseGitHubApp(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "MIIB") {
			t.Errorf("%s: the error quotes the key", name)
		}
	}
}

func TestStackValuesGiveSecretsTheirOfflineStandIn(t *testing.T) {
	v := values(t, "prod", nil)
	if v[GitHubAppConfig] != OfflineGitHubApp {
		t.Fatalf("%s = %q, want the offline stand-in", GitHubAppConfig, v[GitHubAppConfig])
	}
	if _, declared := Keys()[strings.TrimPrefix(GitHubAppConfig, Namespace+":")]; declared {
		t.Fatal("the secret is read through Config: Pulumi.yaml would have to declare it, which makes it required")
	}
}

func TestReportReaders(t *testing.T) {
	ok := `["group:11111111-2222-3333-4444-555555555555:Sluice Report Readers", "user:AAAAAAAA-2222-3333-4444-555555555555:ana@example.com"]`
	c, err := load("prod", values(t, "prod", map[string]string{"postgresReportReaders": ok}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Postgres.ReportReaders(); len(got) != 2 || got[1].ObjectID != "aaaaaaaa-2222-3333-4444-555555555555" || got[0].Type != "group" {
		t.Fatalf("readers %+v", got)
	}
	for name, tc := range map[string]struct{ value, want string }{
		"shape":     {`["11111111-2222-3333-4444-555555555555"]`, "is not <service|group|user>:<object id>:<role name>"},
		"type":      {`["Group:11111111-2222-3333-4444-555555555555:readers"]`, `type "Group" is not one of service, group, user`},
		"object id": {`["group:not-a-uuid:readers"]`, "is not a UUID"},
		"name":      {`["group:11111111-2222-3333-4444-555555555555:-readers"]`, "the name must be"},
		"twice":     {`["group:11111111-2222-3333-4444-555555555555:a", "group:11111111-2222-3333-4444-555555555555:b"]`, "twice"},
	} {
		_, err := load("prod", values(t, "prod", map[string]string{"postgresReportReaders": tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", name, err, tc.want)
		}
	}
}

func TestPowerBIGatewaySubnet(t *testing.T) {
	for _, tc := range []struct {
		name, stack string
		overrides   map[string]string
		want        string
	}{
		{"outside the VNet", "prod", map[string]string{"powerBIGatewaySubnetCidr": "10.99.0.0/27"}, "sluice:powerBIGatewaySubnetCidr 10.99.0.0/27 lies outside sluice:vnetCidr"},
		{"overlaps the runner", "prod", map[string]string{"powerBIGatewaySubnetCidr": "10.60.9.0/27"}, "CIDR overlap: sluice:deployRunnerSubnetCidr 10.60.9.0/28 overlaps sluice:powerBIGatewaySubnetCidr 10.60.9.0/27"},
		{"not a CIDR", "prod", map[string]string{"powerBIGatewaySubnetCidr": "10.60.10.0"}, "sluice:powerBIGatewaySubnetCidr \"10.60.10.0\" is not an IPv4 CIDR"},
		{"public server", "dev", map[string]string{"powerBIGatewaySubnetCidr": "10.40.10.0/27"}, "sluice:privateNetworking is false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.stack, values(t, tc.stack, tc.overrides))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	c, err := load("prod", values(t, "prod", map[string]string{"powerBIGatewaySubnetCidr": "10.60.10.0/27"}))
	if err != nil || c.Network.PowerBIGatewaySubnetCIDR != "10.60.10.0/27" {
		t.Fatalf("a gateway subnet in prod's VNet: %v", err)
	}
}
