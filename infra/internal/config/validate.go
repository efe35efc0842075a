package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Service limits the validation enforces (Azure documentation, 2025).
const (
	// MaxPartitionsBasicStandard is the partition limit of one hub on the
	// Basic and Standard tiers; MaxPartitionsPremium on Premium.
	MaxPartitionsBasicStandard = 32
	MaxPartitionsPremium       = 100
	// MaxThroughputUnitsStandard bounds a Standard namespace.
	MaxThroughputUnitsStandard = 40
)

// regionsWithZones are the Azure regions with availability zones;
// regionsWithoutZones are the other public regions the validation knows.
var (
	regionsWithZones = []string{
		"australiaeast", "austriaeast", "belgiumcentral", "brazilsouth", "canadacentral", "centralindia",
		"centralus", "chilecentral", "denmarkeast", "eastasia", "eastus", "eastus2", "francecentral",
		"germanywestcentral", "indonesiacentral", "israelcentral", "italynorth", "japaneast", "japanwest",
		"koreacentral", "malaysiawest", "mexicocentral", "newzealandnorth", "northeurope", "norwayeast",
		"polandcentral", "qatarcentral", "southafricanorth", "southcentralus", "southeastasia",
		"spaincentral", "swedencentral", "switzerlandnorth", "uaenorth", "uksouth", "westeurope",
		"westus2", "westus3",
	}
	regionsWithoutZones = []string{
		"australiacentral", "australiacentral2", "australiasoutheast", "brazilsoutheast", "canadaeast",
		"francesouth", "germanynorth", "jioindiacentral", "jioindiawest", "koreasouth", "northcentralus",
		"norwaywest", "southafricawest", "southindia", "swedensouth", "switzerlandwest", "uaecentral",
		"ukwest", "westcentralus", "westindia", "westus",
	}
)

// RegionHasZones reports whether region has availability zones.
func RegionHasZones(region string) bool { return slices.Contains(regionsWithZones, region) }

var (
	k8sVersionPattern = regexp.MustCompile(`^1\.[0-9]{2}(\.[0-9]+)?$`)
	vmSizePattern     = regexp.MustCompile(`^Standard_[A-Za-z0-9_]+$`)
	uuidPattern       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	namespacePattern  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
)

// PostgresTier derives the Flexible Server compute tier from a SKU name:
// Standard_B* is Burstable, Standard_D* GeneralPurpose, Standard_E*
// MemoryOptimized. It returns "" for anything else.
func PostgresTier(sku string) string {
	rest, ok := strings.CutPrefix(sku, "Standard_")
	if !ok || rest == "" {
		return ""
	}
	switch rest[0] {
	case 'B':
		return "Burstable"
	case 'D':
		return "GeneralPurpose"
	case 'E':
		return "MemoryOptimized"
	}
	return ""
}

// Validate returns every impossible or unsafe combination in c.
func Validate(c *Config) []string {
	var v validator
	v.general(c)
	v.network(c)
	v.eventHubs(c)
	v.cosmos(c)
	v.aks(c)
	v.postgres(c)
	v.reportReaders(c.Postgres)
	v.redis(c)
	v.keyVault(c)
	v.acr(c)
	v.storage(c)
	v.logs(c)
	v.workloads(c)
	v.spark(c)
	v.deployRunner(c)
	return v.problems
}

type validator struct{ problems []string }

func (v *validator) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validator) oneOf(key, value string, allowed ...string) bool {
	if slices.Contains(allowed, value) {
		return true
	}
	v.addf("%s:%s is %q; want one of %s", Namespace, key, value, strings.Join(allowed, ", "))
	return false
}

func (v *validator) between(key string, value, lo, hi int) {
	if value < lo || value > hi {
		v.addf("%s:%s is %d; want %d to %d", Namespace, key, value, lo, hi)
	}
}

func (v *validator) general(c *Config) {
	switch {
	case c.Region == "":
		v.addf("sluice:region is empty")
	case !RegionHasZones(c.Region) && !slices.Contains(regionsWithoutZones, c.Region):
		v.addf("sluice:region %q is not a known Azure region name (e.g. westeurope)", c.Region)
	case len(c.Zones) > 0 && !RegionHasZones(c.Region):
		v.addf("sluice:zones asks for zone redundancy (%s) but region %q has no availability zones", strings.Join(c.Zones, ","), c.Region)
	}
	seen := map[string]bool{}
	for _, z := range c.Zones {
		if z != "1" && z != "2" && z != "3" {
			v.addf("sluice:zones contains %q; zones are \"1\", \"2\" and \"3\"", z)
		}
		if seen[z] {
			v.addf("sluice:zones lists zone %q twice", z)
		}
		seen[z] = true
	}
	if len(c.Zones) == 1 {
		v.addf("sluice:zones lists one zone; zone redundancy needs at least two")
	}
	if strings.TrimSpace(c.Owner) == "" {
		v.addf("sluice:owner is empty; it is the owner tag of every resource")
	}
	if !namespacePattern.MatchString(c.KubernetesNamespace) {
		v.addf("sluice:kubernetesNamespace %q is not a valid Kubernetes namespace name", c.KubernetesNamespace)
	}
}

type namedPrefix struct {
	key    string
	prefix netip.Prefix
}

func (v *validator) prefix(key, value string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(value)
	if err != nil || !p.Addr().Is4() {
		v.addf("%s:%s %q is not an IPv4 CIDR", Namespace, key, value)
		return netip.Prefix{}, false
	}
	if p.Masked() != p {
		v.addf("%s:%s %q has host bits set; did you mean %s?", Namespace, key, value, p.Masked())
		return netip.Prefix{}, false
	}
	return p, true
}

func (v *validator) network(c *Config) {
	n := c.Network
	vnet, okVNet := v.prefix("vnetCidr", n.VNetCIDR)
	var subnets, cluster []namedPrefix
	planned := []struct{ key, value string }{
		{"aksNodesSubnetCidr", n.AKSNodesSubnetCIDR},
		{"privateEndpointsSubnetCidr", n.PrivateEndpointsSubnetCIDR},
	}
	if n.DeployRunnerSubnetCIDR != "" {
		planned = append(planned, struct{ key, value string }{"deployRunnerSubnetCidr", n.DeployRunnerSubnetCIDR})
	}
	if n.PowerBIGatewaySubnetCIDR != "" {
		planned = append(planned, struct{ key, value string }{"powerBIGatewaySubnetCidr", n.PowerBIGatewaySubnetCIDR})
		if !c.PrivateNetworking {
			v.addf("sluice:powerBIGatewaySubnetCidr is set but sluice:privateNetworking is false: Power BI reaches a public server directly, a data gateway subnet is for a private one")
		}
	}
	for _, s := range planned {
		p, ok := v.prefix(s.key, s.value)
		if !ok {
			continue
		}
		if okVNet && !(vnet.Contains(p.Addr()) && p.Bits() >= vnet.Bits()) {
			v.addf("sluice:%s %s lies outside sluice:vnetCidr %s", s.key, p, vnet)
		}
		subnets = append(subnets, namedPrefix{s.key, p})
	}
	for _, s := range []struct{ key, value string }{
		{"aksPodCidr", n.AKSPodCIDR},
		{"aksServiceCidr", n.AKSServiceCIDR},
	} {
		if p, ok := v.prefix(s.key, s.value); ok {
			cluster = append(cluster, namedPrefix{s.key, p})
		}
	}
	overlap := func(a, b namedPrefix) {
		if a.prefix.Overlaps(b.prefix) {
			v.addf("CIDR overlap: sluice:%s %s overlaps sluice:%s %s", a.key, a.prefix, b.key, b.prefix)
		}
	}
	for i := range subnets {
		for j := i + 1; j < len(subnets); j++ {
			overlap(subnets[i], subnets[j])
		}
	}
	all := cluster
	if okVNet {
		all = append([]namedPrefix{{"vnetCidr", vnet}}, cluster...)
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			overlap(all[i], all[j])
		}
	}
	dns, err := netip.ParseAddr(n.AKSDNSServiceIP)
	switch {
	case err != nil || !dns.Is4():
		v.addf("sluice:aksDnsServiceIp %q is not an IPv4 address", n.AKSDNSServiceIP)
	default:
		for _, p := range cluster {
			if p.key == "aksServiceCidr" && !p.prefix.Contains(dns) {
				v.addf("sluice:aksDnsServiceIp %s lies outside sluice:aksServiceCidr %s", dns, p.prefix)
			}
		}
	}
}

func (v *validator) eventHubs(c *Config) {
	e := c.EventHubs
	if !v.oneOf("eventHubsSku", e.SKU, "Basic", "Standard", "Premium") {
		return
	}
	maxPartitions := MaxPartitionsBasicStandard
	maxRetention := 0
	switch e.SKU {
	case "Basic":
		v.addf("sluice:eventHubsSku is Basic, which has no Kafka endpoint; the workloads speak Kafka: use Standard or Premium")
		maxRetention = 24
	case "Standard":
		v.between("eventHubsCapacity", e.Capacity, 1, MaxThroughputUnitsStandard)
		maxRetention = 7 * 24
	case "Premium":
		maxPartitions = MaxPartitionsPremium
		maxRetention = 90 * 24
		if !slices.Contains([]int{1, 2, 4, 8, 16}, e.Capacity) {
			v.addf("sluice:eventHubsCapacity is %d processing units; Premium takes 1, 2, 4, 8 or 16", e.Capacity)
		}
	}
	if e.AutoInflate {
		if e.SKU != "Standard" {
			v.addf("sluice:eventHubsAutoInflate is only available on the Standard tier, not %s", e.SKU)
		} else if e.MaxThroughputUnits < e.Capacity || e.MaxThroughputUnits > MaxThroughputUnitsStandard {
			v.addf("sluice:eventHubsMaxThroughputUnits is %d; with auto-inflate it must be between eventHubsCapacity (%d) and %d", e.MaxThroughputUnits, e.Capacity, MaxThroughputUnitsStandard)
		}
	} else if e.MaxThroughputUnits != 0 {
		v.addf("sluice:eventHubsMaxThroughputUnits is %d but auto-inflate is off; set it to 0", e.MaxThroughputUnits)
	}
	for _, p := range []struct {
		key string
		n   int
	}{{"eventHubsPartitions", e.Partitions}, {"eventHubsDlqPartitions", e.DLQPartitions}} {
		if p.n < 1 || p.n > maxPartitions {
			v.addf("sluice:%s is %d; the %s tier allows 1 to %d partitions per hub", p.key, p.n, e.SKU, maxPartitions)
		}
	}
	if e.RetentionHours < 1 || e.RetentionHours > maxRetention {
		v.addf("sluice:eventHubsRetentionHours is %d; the %s tier keeps events 1 to %d hours", e.RetentionHours, e.SKU, maxRetention)
	}
	v.producers(e)
}

func (v *validator) cosmos(c *Config) {
	co := c.Cosmos
	if v.oneOf("cosmosThroughput", co.Throughput, "serverless", "autoscale") && co.Throughput == "autoscale" {
		if co.AutoscaleMaxThroughput < 1000 || co.AutoscaleMaxThroughput%1000 != 0 {
			v.addf("sluice:cosmosAutoscaleMaxThroughput is %d; autoscale takes a multiple of 1000 RU/s, at least 1000", co.AutoscaleMaxThroughput)
		}
	}
	v.oneOf("cosmosBackupTier", co.BackupTier, "Continuous7Days", "Continuous30Days", "Periodic")
	v.cosmosRegions(c)
}

func (v *validator) aks(c *Config) {
	a := c.AKS
	if a.KubernetesVersion != "" && !k8sVersionPattern.MatchString(a.KubernetesVersion) {
		v.addf("sluice:aksKubernetesVersion %q is not a version like 1.31 or 1.31.2", a.KubernetesVersion)
	}
	v.oneOf("aksSkuTier", a.SKUTier, "Free", "Standard", "Premium")
	for _, s := range []struct{ key, value string }{{"aksSystemVmSize", a.SystemVMSize}, {"aksUserVmSize", a.UserVMSize}} {
		if !vmSizePattern.MatchString(s.value) {
			v.addf("sluice:%s %q is not a VM size like Standard_D4ds_v5", s.key, s.value)
		}
	}
	v.between("aksSystemNodeCount", a.SystemNodeCount, 1, 100)
	if len(c.Zones) > 0 && a.SystemNodeCount < len(c.Zones) {
		v.addf("sluice:aksSystemNodeCount is %d but %d zones are configured; give each zone a system node", a.SystemNodeCount, len(c.Zones))
	}
	v.between("aksUserMinCount", a.UserMinCount, 0, 1000)
	if a.UserMaxCount < 1 || a.UserMaxCount < a.UserMinCount || a.UserMaxCount > 1000 {
		v.addf("sluice:aksUserMaxCount is %d; it must be at least 1 and at least sluice:aksUserMinCount (%d)", a.UserMaxCount, a.UserMinCount)
	}
	if a.PrivateAPIServer && len(a.AuthorizedIPRanges) > 0 {
		v.addf("sluice:aksAuthorizedIpRanges cannot be combined with a private API server (sluice:aksPrivateApiServer)")
	}
	v.apiServerAccess(c)
	v.oneOf("aksUpgradeChannel", a.UpgradeChannel, "patch", "stable", "rapid", "node-image")
	v.oneOf("aksNodeOsUpgradeChannel", a.NodeOSUpgradeChannel, "NodeImage", "SecurityPatch", "Unmanaged")
}

func (v *validator) postgres(c *Config) {
	p := c.Postgres
	tier := PostgresTier(p.SKUName)
	if tier == "" {
		v.addf("sluice:postgresSkuName %q is not a Flexible Server SKU (Standard_B*, Standard_D*, Standard_E*)", p.SKUName)
	}
	if tier == "Burstable" && p.PgBouncer {
		v.addf("sluice:postgresPgBouncer is on but %s is a Burstable SKU, which has no built-in PgBouncer; use a GeneralPurpose or MemoryOptimized SKU", p.SKUName)
	}
	if tier == "Burstable" && p.HighAvailability {
		v.addf("sluice:postgresHighAvailability is on but Burstable SKUs (%s) do not support high availability", p.SKUName)
	}
	v.oneOf("postgresVersion", p.Version, "13", "14", "15", "16")
	if !slices.Contains([]int{32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767}, p.StorageGB) {
		v.addf("sluice:postgresStorageGb is %d; Flexible Server takes 32, 64, 128, ... 16384 or 32767", p.StorageGB)
	}
	v.between("postgresBackupRetentionDays", p.BackupRetentionDays, 7, 35)
	if p.AdminObjectID != "" && !uuidPattern.MatchString(p.AdminObjectID) {
		v.addf("sluice:postgresAdminObjectId %q is not an object id (UUID)", p.AdminObjectID)
	}
	if strings.TrimSpace(p.AdminPrincipalName) == "" {
		v.addf("sluice:postgresAdminPrincipalName is empty")
	}
	v.oneOf("postgresAdminPrincipalType", p.AdminPrincipalType, "User", "Group", "ServicePrincipal")
}

func (v *validator) redis(c *Config) {
	r := c.Redis
	if !v.oneOf("redisKind", r.Kind, "managed", "classic") {
		return
	}
	if r.Kind == "managed" {
		ok := false
		for _, prefix := range []string{"Balanced_B", "MemoryOptimized_M", "ComputeOptimized_X", "FlashOptimized_A"} {
			if strings.HasPrefix(r.SKU, prefix) {
				ok = true
			}
		}
		if !ok {
			v.addf("sluice:redisSku %q is not an Azure Managed Redis SKU (Balanced_B*, MemoryOptimized_M*, ComputeOptimized_X*, FlashOptimized_A*)", r.SKU)
		}
		if len(c.Zones) > 0 && !r.HighAvailability {
			v.addf("sluice:redisHighAvailability is off while zones are configured; a cache without a replica cannot be zone redundant")
		}
		return
	}
	if !v.oneOf("redisSku", r.SKU, "Basic", "Standard", "Premium") {
		return
	}
	if r.SKU == "Premium" {
		v.between("redisCapacity", r.Capacity, 1, 5)
	} else {
		v.between("redisCapacity", r.Capacity, 0, 6)
	}
	if len(c.Zones) > 0 && r.SKU != "Premium" {
		v.addf("sluice:zones are configured but the classic %s cache cannot be zone redundant; use Premium or Azure Managed Redis", r.SKU)
	}
	if r.HighAvailability && r.SKU == "Basic" {
		v.addf("sluice:redisHighAvailability is on but a classic Basic cache has no replica")
	}
}

func (v *validator) keyVault(c *Config) {
	k := c.KeyVault
	v.oneOf("keyVaultSku", k.SKU, "standard", "premium")
	v.between("keyVaultSoftDeleteRetentionDays", k.SoftDeleteRetentionDays, 7, 90)
	if c.Protect && !k.PurgeProtection {
		v.addf("sluice:protect is on but sluice:keyVaultPurgeProtection is off; a protected stack's secrets must survive a purge")
	}
}

func (v *validator) acr(c *Config) {
	if !v.oneOf("acrSku", c.ACR.SKU, "Basic", "Standard", "Premium") {
		return
	}
	if c.PrivateNetworking && c.ACR.SKU != "Premium" {
		v.addf("sluice:privateNetworking needs a private endpoint on the registry, which only the Premium ACR SKU offers (sluice:acrSku is %s)", c.ACR.SKU)
	}
	if len(c.Zones) > 0 && c.ACR.SKU != "Premium" {
		v.addf("sluice:zones are configured but ACR zone redundancy needs the Premium SKU (sluice:acrSku is %s)", c.ACR.SKU)
	}
}

func (v *validator) storage(c *Config) {
	if !v.oneOf("storageSku", c.Storage.SKU, "Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS", "Standard_RAGZRS") {
		return
	}
	if len(c.Zones) > 0 && !strings.Contains(c.Storage.SKU, "ZRS") {
		v.addf("sluice:zones are configured but sluice:storageSku %s is not zone redundant; use Standard_ZRS or Standard_GZRS", c.Storage.SKU)
	}
}

func (v *validator) logs(c *Config) {
	v.between("logRetentionDays", c.Logs.RetentionDays, 30, 730)
	if q := c.Logs.DailyQuotaGB; q != -1 && q < 1 {
		v.addf("sluice:logDailyQuotaGb is %d; use -1 (no cap) or a positive number of GB", q)
	}
}
