package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// values returns a stack's config map with overrides applied.
func values(t *testing.T, stack string, overrides map[string]string) map[string]string {
	t.Helper()
	v, err := StackValues(roottest.Root(t), stack)
	if err != nil {
		t.Fatalf("stack values %s: %v", stack, err)
	}
	for k, val := range overrides {
		if val == "<unset>" {
			delete(v, Namespace+":"+k)
			continue
		}
		v[Namespace+":"+k] = val
	}
	return v
}

func load(stack string, v map[string]string) (*Config, error) {
	return Load(stack, func(k string) (string, bool) { s, ok := v[k]; return s, ok })
}

func TestStacksAreValid(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		c, err := load(stack, values(t, stack, nil))
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		if c.Stack != stack {
			t.Errorf("%s: Stack = %q", stack, c.Stack)
		}
	}
}

func TestStacksDifferInSizingNotSecurity(t *testing.T) {
	dev, err := load("dev", values(t, "dev", nil))
	if err != nil {
		t.Fatal(err)
	}
	prod, err := load("prod", values(t, "prod", nil))
	if err != nil {
		t.Fatal(err)
	}
	if !prod.PrivateNetworking || !prod.Protect || len(prod.Zones) != 3 || !prod.KeyVault.PurgeProtection {
		t.Errorf("prod must be private, protected, zonal with purge protection: %+v", prod)
	}
	if dev.EventHubs.SKU != "Standard" || dev.Cosmos.Throughput != "serverless" || PostgresTier(dev.Postgres.SKUName) != "Burstable" ||
		dev.Redis.SKU != "Balanced_B0" || dev.ACR.SKU != "Basic" || dev.AKS.SKUTier != "Free" {
		t.Errorf("dev must use the cheap SKUs: %+v", dev)
	}
}

func TestBadConfigurations(t *testing.T) {
	cases := []struct {
		name      string
		stack     string
		overrides map[string]string
		want      string
	}{
		{"partitions above Standard limit", "staging", map[string]string{"eventHubsPartitions": "33"}, "Standard tier allows 1 to 32 partitions"},
		{"partitions above Premium limit", "prod", map[string]string{"eventHubsPartitions": "101"}, "Premium tier allows 1 to 100 partitions"},
		{"dlq partitions zero", "dev", map[string]string{"eventHubsDlqPartitions": "0"}, "sluice:eventHubsDlqPartitions is 0"},
		{"kafka on basic", "dev", map[string]string{"eventHubsSku": "Basic"}, "Basic, which has no Kafka endpoint"},
		{"standard throughput units", "dev", map[string]string{"eventHubsCapacity": "41"}, "sluice:eventHubsCapacity is 41"},
		{"premium processing units", "prod", map[string]string{"eventHubsCapacity": "3"}, "Premium takes 1, 2, 4, 8 or 16"},
		{"auto-inflate on premium", "prod", map[string]string{"eventHubsAutoInflate": "true", "eventHubsMaxThroughputUnits": "4"}, "only available on the Standard tier"},
		{"auto-inflate ceiling below capacity", "staging", map[string]string{"eventHubsMaxThroughputUnits": "1"}, "must be between eventHubsCapacity (2) and 40"},
		{"retention over Standard limit", "dev", map[string]string{"eventHubsRetentionHours": "169"}, "keeps events 1 to 168 hours"},
		{"pgbouncer on burstable", "dev", map[string]string{"postgresPgBouncer": "true"}, "Burstable SKU, which has no built-in PgBouncer"},
		{"ha on burstable", "dev", map[string]string{"postgresHighAvailability": "true"}, "Burstable SKUs (Standard_B1ms) do not support high availability"},
		{"unknown postgres sku", "dev", map[string]string{"postgresSkuName": "B1ms"}, "is not a Flexible Server SKU"},
		{"postgres storage size", "dev", map[string]string{"postgresStorageGb": "100"}, "sluice:postgresStorageGb is 100"},
		{"postgres retention", "dev", map[string]string{"postgresBackupRetentionDays": "36"}, "sluice:postgresBackupRetentionDays is 36"},
		{"zones without zones", "prod", map[string]string{"region": "westus"}, `region "westus" has no availability zones`},
		{"unknown region", "dev", map[string]string{"region": "mars-north"}, "not a known Azure region"},
		{"one zone", "prod", map[string]string{"zones": `["1"]`, "aksSystemNodeCount": "3"}, "zone redundancy needs at least two"},
		{"bad zone", "prod", map[string]string{"zones": `["1","2","4"]`}, `zones contains "4"`},
		{"subnets overlap", "dev", map[string]string{"privateEndpointsSubnetCidr": "10.40.2.0/24"}, "CIDR overlap: sluice:aksNodesSubnetCidr 10.40.0.0/22 overlaps sluice:privateEndpointsSubnetCidr 10.40.2.0/24"},
		{"pod cidr overlaps vnet", "dev", map[string]string{"aksPodCidr": "10.40.128.0/17"}, "CIDR overlap: sluice:vnetCidr 10.40.0.0/16 overlaps sluice:aksPodCidr 10.40.128.0/17"},
		{"service cidr overlaps pods", "dev", map[string]string{"aksServiceCidr": "192.168.0.0/20", "aksDnsServiceIp": "192.168.0.10"}, "CIDR overlap: sluice:aksPodCidr 192.168.0.0/16 overlaps sluice:aksServiceCidr 192.168.0.0/20"},
		{"subnet outside vnet", "dev", map[string]string{"aksNodesSubnetCidr": "10.99.0.0/22"}, "lies outside sluice:vnetCidr"},
		{"dns ip outside service cidr", "dev", map[string]string{"aksDnsServiceIp": "10.42.0.10"}, "sluice:aksDnsServiceIp 10.42.0.10 lies outside sluice:aksServiceCidr"},
		{"cidr with host bits", "dev", map[string]string{"vnetCidr": "10.40.0.1/16"}, "has host bits set"},
		{"not a cidr", "dev", map[string]string{"vnetCidr": "ten-forty"}, "is not an IPv4 CIDR"},
		{"autoscale throughput", "staging", map[string]string{"cosmosAutoscaleMaxThroughput": "1500"}, "multiple of 1000 RU/s"},
		{"cosmos throughput model", "dev", map[string]string{"cosmosThroughput": "manual"}, `sluice:cosmosThroughput is "manual"`},
		{"cosmos backup tier", "dev", map[string]string{"cosmosBackupTier": "Continuous90Days"}, "sluice:cosmosBackupTier"},
		{"user pool max below min", "dev", map[string]string{"aksUserMinCount": "3", "aksUserMaxCount": "2"}, "sluice:aksUserMaxCount is 2"},
		{"system pool smaller than zones", "prod", map[string]string{"aksSystemNodeCount": "2"}, "give each zone a system node"},
		{"private api server with ip ranges", "prod", map[string]string{"aksAuthorizedIpRanges": `["203.0.113.0/24"]`}, "cannot be combined with a private API server"},
		{"bad upgrade channel", "dev", map[string]string{"aksUpgradeChannel": "latest"}, "sluice:aksUpgradeChannel"},
		{"bad vm size", "dev", map[string]string{"aksUserVmSize": "D4ds_v5"}, "is not a VM size"},
		{"bad kubernetes version", "dev", map[string]string{"aksKubernetesVersion": "v1.31"}, "is not a version like 1.31"},
		{"managed redis sku", "dev", map[string]string{"redisSku": "Premium"}, "is not an Azure Managed Redis SKU"},
		{"managed redis zones without ha", "prod", map[string]string{"redisHighAvailability": "false"}, "cannot be zone redundant"},
		{"classic redis zones need premium", "prod", map[string]string{"redisKind": "classic", "redisSku": "Standard", "redisCapacity": "1"}, "classic Standard cache cannot be zone redundant"},
		{"classic redis capacity", "dev", map[string]string{"redisKind": "classic", "redisSku": "Premium", "redisCapacity": "0"}, "sluice:redisCapacity is 0"},
		{"acr private endpoint needs premium", "staging", map[string]string{"acrSku": "Standard"}, "only the Premium ACR SKU offers"},
		{"storage zones need zrs", "prod", map[string]string{"storageSku": "Standard_LRS"}, "is not zone redundant"},
		{"protect without purge protection", "prod", map[string]string{"keyVaultPurgeProtection": "false"}, "a protected stack's secrets must survive a purge"},
		{"key vault retention", "dev", map[string]string{"keyVaultSoftDeleteRetentionDays": "3"}, "sluice:keyVaultSoftDeleteRetentionDays is 3"},
		{"log retention", "dev", map[string]string{"logRetentionDays": "7"}, "sluice:logRetentionDays is 7"},
		{"log quota", "dev", map[string]string{"logDailyQuotaGb": "0"}, "sluice:logDailyQuotaGb is 0"},
		{"admin object id", "dev", map[string]string{"postgresAdminObjectId": "admins"}, "is not an object id"},
		{"namespace", "dev", map[string]string{"kubernetesNamespace": "Sluice_NS"}, "not a valid Kubernetes namespace"},
		{"missing key", "dev", map[string]string{"eventHubsSku": "<unset>"}, "sluice:eventHubsSku is not set"},
		{"not an integer", "dev", map[string]string{"eventHubsPartitions": "four"}, `sluice:eventHubsPartitions must be an integer, got "four"`},
		{"not a boolean", "dev", map[string]string{"protect": "yes please"}, "sluice:protect must be true or false"},
		{"not a list", "dev", map[string]string{"zones": "1,2,3"}, "sluice:zones must be a list of strings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.stack, values(t, tc.stack, tc.overrides))
			if err == nil {
				t.Fatalf("want an error containing %q, got none", tc.want)
			}
			var cfgErr *Error
			if !errors.As(err, &cfgErr) {
				t.Fatalf("error is %T, want *config.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	v := values(t, "prod", map[string]string{
		"eventHubsPartitions": "500",
		"postgresSkuName":     "Standard_B2s",
		"postgresPgBouncer":   "true",
		"region":              "northcentralus",
		"aksServiceCidr":      "10.60.0.0/16",
	})
	_, err := load("prod", v)
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want *config.Error, got %v", err)
	}
	for _, want := range []string{"partitions per hub", "no built-in PgBouncer", "has no availability zones", "CIDR overlap: sluice:vnetCidr"} {
		if !slices.ContainsFunc(cfgErr.Problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("problem %q missing from %q", want, cfgErr.Problems)
		}
	}
	if !strings.HasPrefix(err.Error(), `invalid configuration for stack "prod" (`) {
		t.Errorf("message does not start with a summary: %v", err)
	}
	if got := strings.Count(err.Error(), "\n  - "); got != len(cfgErr.Problems) {
		t.Errorf("message lists %d problems, Problems has %d", got, len(cfgErr.Problems))
	}
}

func TestTypeProblemsAreAllReported(t *testing.T) {
	_, err := load("dev", map[string]string{})
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want *config.Error, got %v", err)
	}
	if len(cfgErr.Problems) != len(Keys()) {
		t.Errorf("empty config gave %d problems, want one per key (%d)", len(cfgErr.Problems), len(Keys()))
	}
}

func TestProjectFileDeclaresEveryKey(t *testing.T) {
	p, err := ReadProject(filepath.Join(roottest.Root(t), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != Namespace || p.Main != "infra/" || p.StackConfigDir != "stacks" || p.Runtime != "go" {
		t.Errorf("project = %+v, want name sluice, runtime go, main infra/, stackConfigDir stacks", p)
	}
	declared := map[string]ConfigSpec{}
	for key, spec := range p.Config {
		full := p.ProjectKey(key)
		name, ok := strings.CutPrefix(full, Namespace+":")
		if !ok {
			t.Errorf("Pulumi.yaml declares %s outside the project namespace", full)
			continue
		}
		declared[name] = spec
	}
	keys := Keys()
	for _, name := range sortedKeys(keys) {
		spec, ok := declared[name]
		if !ok {
			t.Errorf("Pulumi.yaml does not declare %s", name)
			continue
		}
		if Kind(spec.Type) != keys[name] {
			t.Errorf("%s: Pulumi.yaml type %q, program reads %q", name, spec.Type, keys[name])
		}
		if spec.Type == "array" && (spec.Items == nil || spec.Items.Type != "string") {
			t.Errorf("%s: an array needs items.type string", name)
		}
		if strings.TrimSpace(spec.Description) == "" {
			t.Errorf("%s: no description", name)
		}
		if !spec.HasDefault() {
			t.Errorf("%s: no default", name)
		}
		if spec.Secret {
			t.Errorf("%s: declared secret; Sluice keeps no secrets in config", name)
		}
	}
	for name := range declared {
		if _, ok := keys[name]; !ok {
			t.Errorf("Pulumi.yaml declares %s, which the program never reads", name)
		}
	}
	// The defaults alone must form a valid configuration.
	defaults := map[string]string{}
	for key, spec := range p.Config {
		v, err := encode(&spec.Default, spec.Type)
		if err != nil {
			t.Fatalf("default of %s: %v", key, err)
		}
		defaults[p.ProjectKey(key)] = v
	}
	if _, err := load("defaults", defaults); err != nil {
		t.Errorf("Pulumi.yaml defaults are not a valid configuration: %v", err)
	}
}

func TestStackFilesHoldNoSecrets(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		s, err := ReadStackFile(filepath.Join(roottest.Root(t), "stacks", "Pulumi."+stack+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Config) == 0 {
			t.Fatalf("%s: empty config", stack)
		}
		for key, node := range s.Config {
			words := camelWords(strings.TrimPrefix(key, Namespace+":"))
			for i, w := range words {
				secretish := w == "password" || w == "secret" || w == "token" || w == "connection" ||
					((w == "key" || w == "keys") && (i+1 == len(words) || words[i+1] != "vault"))
				if secretish {
					t.Errorf("%s: key %s looks like a secret", stack, key)
				}
			}
			if node.Tag == "!secure" || strings.Contains(node.Value, "secure:") {
				t.Errorf("%s: %s holds an encrypted secret", stack, key)
			}
		}
	}
}

func TestStackValuesRejectUndeclaredAndMistypedKeys(t *testing.T) {
	dir := t.TempDir()
	project := "name: sluice\nruntime: go\nstackConfigDir: stacks\nconfig:\n  region:\n    type: string\n    default: westeurope\n  partitions:\n    type: integer\n    default: 4\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(project), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "stacks"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(stack, body string) {
		if err := os.WriteFile(filepath.Join(dir, "stacks", "Pulumi."+stack+".yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok", "config:\n  sluice:partitions: 8\n")
	v, err := StackValues(dir, "ok")
	if err != nil {
		t.Fatal(err)
	}
	if v["sluice:partitions"] != "8" || v["sluice:region"] != "westeurope" {
		t.Errorf("values = %v", v)
	}
	write("undeclared", "config:\n  sluice:colour: blue\n")
	if _, err := StackValues(dir, "undeclared"); err == nil || !strings.Contains(err.Error(), "does not declare") {
		t.Errorf("undeclared key: err = %v", err)
	}
	write("mistyped", "config:\n  sluice:partitions: many\n")
	if _, err := StackValues(dir, "mistyped"); err == nil || !strings.Contains(err.Error(), "want an integer") {
		t.Errorf("mistyped key: err = %v", err)
	}
}

func TestPostgresTier(t *testing.T) {
	for sku, want := range map[string]string{
		"Standard_B1ms": "Burstable", "Standard_D2ds_v5": "GeneralPurpose", "Standard_E4ds_v5": "MemoryOptimized",
		"Standard_X9": "", "B1ms": "", "Standard_": "",
	} {
		if got := PostgresTier(sku); got != want {
			t.Errorf("PostgresTier(%q) = %q, want %q", sku, got, want)
		}
	}
}

// camelWords splits "keyVaultPurgeProtection" into key, vault, purge, protection.
func camelWords(s string) []string {
	var words []string
	start := 0
	for i := 1; i <= len(s); i++ {
		if i == len(s) || (s[i] >= 'A' && s[i] <= 'Z') {
			words = append(words, strings.ToLower(s[start:i]))
			start = i
		}
	}
	return words
}
