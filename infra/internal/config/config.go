package config

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Namespace is the configuration namespace of the project: keys are written
// "sluice:<name>" in stack files and in the program's config map.
const Namespace = "sluice"

// Config is the whole, validated stack configuration.
type Config struct {
	// Stack is the stack name (dev, staging, prod, or a review stack). It is
	// not a config key: the program takes it from the Pulumi context.
	Stack string
	// Region is the Azure region of every resource, e.g. "westeurope".
	Region string
	// Zones are the availability zones ("1", "2", "3") zonal resources are
	// spread over. Empty means no zone redundancy anywhere.
	Zones []string
	// PrivateNetworking puts every data service behind a private endpoint
	// and disables its public network access.
	PrivateNetworking bool
	// Protect marks data stores `protect` in Pulumi and adds a CanNotDelete
	// lock on them in Azure.
	Protect bool
	// Owner is written to the "owner" tag of every resource.
	Owner string
	// KubernetesNamespace is the namespace the workloads' service accounts
	// live in; it is part of each federated credential's subject.
	KubernetesNamespace string

	Network   Network
	EventHubs EventHubs
	Cosmos    Cosmos
	AKS       AKS
	Postgres  Postgres
	Redis     Redis
	KeyVault  KeyVault
	ACR       ACR
	Storage   Storage
	Logs      Logs
	Workloads Workloads
	Spark     Spark
	// DeployRunner is the in-VNet GitHub Actions runner (runner.go).
	DeployRunner DeployRunner
}

// ZoneRedundant reports whether zones are configured.
func (c *Config) ZoneRedundant() bool { return len(c.Zones) > 0 }

// Network holds the address plan. All ranges are IPv4 CIDRs.
type Network struct {
	VNetCIDR                   string
	AKSNodesSubnetCIDR         string
	PrivateEndpointsSubnetCIDR string
	// DeployRunnerSubnetCIDR is the deploy runner's subnet; empty without one.
	DeployRunnerSubnetCIDR string
	// PowerBIGatewaySubnetCIDR is the subnet delegated to the Power
	// Platform VNet data gateway, Power BI's way to a private server;
	// empty without one.
	PowerBIGatewaySubnetCIDR string
	// AKSPodCIDR is the overlay range of pod IPs; it must not overlap the VNet.
	AKSPodCIDR string
	// AKSServiceCIDR is the range of Kubernetes service IPs.
	AKSServiceCIDR string
	// AKSDNSServiceIP is the cluster DNS service address, inside AKSServiceCIDR.
	AKSDNSServiceIP string
}

// EventHubs sizes the Event Hubs namespace and its hubs.
type EventHubs struct {
	// SKU is Basic, Standard or Premium. Kafka needs Standard or Premium.
	SKU string
	// Capacity is throughput units (Standard) or processing units (Premium).
	Capacity int
	// AutoInflate lets Standard grow up to MaxThroughputUnits.
	AutoInflate        bool
	MaxThroughputUnits int
	// Partitions of the "events" hub; DLQPartitions of "events.dlq".
	Partitions    int
	DLQPartitions int
	// RetentionHours of both hubs.
	RetentionHours int
	// ProducerPrincipals are Entra ID principals outside the cluster that
	// send to the events hub, each "<type>:<object id>" (see Producers).
	ProducerPrincipals []string
}

// Cosmos sizes the Cosmos DB for Apache Cassandra account.
type Cosmos struct {
	// Throughput is "serverless" or "autoscale".
	Throughput string
	// AutoscaleMaxThroughput is the keyspace's shared autoscale maximum in
	// RU/s (autoscale only).
	AutoscaleMaxThroughput int
	// BackupTier is Continuous7Days, Continuous30Days or Periodic.
	BackupTier string
	// FailoverRegions are read regions, in failover order after Region
	// (the single write region); any of them turns on automatic failover.
	FailoverRegions []string
	// MultipleWriteLocations must stay false: the change feed's leases use
	// lightweight transactions, which multi-region writes do not support.
	MultipleWriteLocations bool
}

// AKS sizes the Kubernetes cluster.
type AKS struct {
	// KubernetesVersion pins the control plane; empty takes AKS's default.
	KubernetesVersion string
	// SKUTier is Free, Standard or Premium.
	SKUTier          string
	SystemVMSize     string
	SystemNodeCount  int
	UserVMSize       string
	UserMinCount     int
	UserMaxCount     int
	PrivateAPIServer bool
	// AuthorizedIPRanges limit a public API server to these CIDRs. A public
	// API server needs at least one (see UnrestrictedPublicAPIServer).
	AuthorizedIPRanges []string
	// DeployerObjectID is who applies the Kubernetes objects and gets
	// "Azure Kubernetes Service RBAC Cluster Admin" on the cluster; empty
	// means the deploying identity (the client config's object id).
	DeployerObjectID string
	// DeployerPrincipalType is User, Group or ServicePrincipal; empty
	// derives it from the deploying session (see DeployerType).
	DeployerPrincipalType string
	// UnrestrictedPublicAPIServer is the explicit opt-out that leaves a
	// public API server open to every address; only dev stacks may set it.
	UnrestrictedPublicAPIServer bool
	// UpgradeChannel is patch, stable, rapid or node-image.
	UpgradeChannel string
	// NodeOSUpgradeChannel is NodeImage, SecurityPatch or Unmanaged.
	NodeOSUpgradeChannel string
}

// Postgres sizes the PostgreSQL Flexible Server.
type Postgres struct {
	// SKUName is e.g. Standard_B1ms (Burstable), Standard_D2ds_v5
	// (GeneralPurpose) or Standard_E2ds_v5 (MemoryOptimized).
	SKUName             string
	Version             string
	StorageGB           int
	HighAvailability    bool
	BackupRetentionDays int
	GeoRedundantBackup  bool
	PgBouncer           bool
	// AdminObjectID is the Entra ID administrator; empty makes the deploying
	// identity the administrator.
	AdminObjectID      string
	AdminPrincipalName string
	// AdminPrincipalType is User, Group or ServicePrincipal.
	AdminPrincipalType string
	// ReportReaderPrincipals are the Entra ID principals (a group of report
	// users, typically) that sign in as members of the report_reader role,
	// e.g. Power BI users: "<service|group|user>:<object id>:<role name>".
	ReportReaderPrincipals []string
}

// Redis chooses and sizes the cache.
type Redis struct {
	// Kind is "managed" (Azure Managed Redis, the default) or "classic"
	// (Azure Cache for Redis, retiring; for tenants that still run it).
	Kind string
	// SKU is e.g. Balanced_B0 (managed) or Basic/Standard/Premium (classic).
	SKU string
	// Capacity is the classic cache size (C0-C6, P1-P5); unused for managed.
	Capacity int
	// HighAvailability replicates a managed cache; classic Standard and
	// Premium always replicate.
	HighAvailability bool
}

// KeyVault sizes the vault. RBAC and soft delete are always on.
type KeyVault struct {
	SKU                     string
	PurgeProtection         bool
	SoftDeleteRetentionDays int
}

// ACR sizes the registry. The admin user is always off.
type ACR struct {
	SKU string
}

// Storage sizes the Data Lake Storage Gen2 account.
type Storage struct {
	SKU string
}

// Logs sizes the Log Analytics workspace.
type Logs struct {
	RetentionDays int
	// DailyQuotaGB caps ingestion; -1 is unlimited.
	DailyQuotaGB int
}

// Error lists every configuration problem found.
type Error struct {
	Stack    string
	Problems []string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration for stack %q (%d problem", e.Stack, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

// Lookup returns the raw value of a fully qualified key ("sluice:region") as
// the Pulumi engine passes it: scalars as text, arrays as JSON.
type Lookup func(key string) (string, bool)

// Load reads every setting through lookup and validates the result. Type
// problems (missing keys, unparsable values) are reported first, all of
// them; only a well-typed configuration is then checked for impossible
// combinations, again reporting all of them.
func Load(stack string, lookup Lookup) (*Config, error) {
	r := &reader{lookup: lookup}
	c := read(r)
	c.Stack = stack
	if len(r.problems) > 0 {
		return nil, &Error{Stack: stack, Problems: r.problems}
	}
	if problems := Validate(c); len(problems) > 0 {
		return nil, &Error{Stack: stack, Problems: problems}
	}
	return c, nil
}

// Keys lists every key the program reads, with its kind, sorted by name.
// Tests use it to check that Pulumi.yaml declares exactly these keys.
func Keys() map[string]Kind {
	r := &reader{lookup: func(string) (string, bool) { return "", false }, kinds: map[string]Kind{}}
	read(r)
	return r.kinds
}

// Kind is the Pulumi config type of a key.
type Kind string

// Kinds of config values, named as Pulumi.yaml's config section names them.
const (
	KindString  Kind = "string"
	KindInteger Kind = "integer"
	KindBoolean Kind = "boolean"
	KindArray   Kind = "array"
)

func read(r *reader) *Config {
	return &Config{
		Region:              r.str("region"),
		Zones:               r.strs("zones"),
		PrivateNetworking:   r.boolean("privateNetworking"),
		Protect:             r.boolean("protect"),
		Owner:               r.str("owner"),
		KubernetesNamespace: r.str("kubernetesNamespace"),
		Network: Network{
			VNetCIDR:                   r.str("vnetCidr"),
			AKSNodesSubnetCIDR:         r.str("aksNodesSubnetCidr"),
			PrivateEndpointsSubnetCIDR: r.str("privateEndpointsSubnetCidr"),
			DeployRunnerSubnetCIDR:     r.str("deployRunnerSubnetCidr"),
			PowerBIGatewaySubnetCIDR:   r.str("powerBIGatewaySubnetCidr"),
			AKSPodCIDR:                 r.str("aksPodCidr"),
			AKSServiceCIDR:             r.str("aksServiceCidr"),
			AKSDNSServiceIP:            r.str("aksDnsServiceIp"),
		},
		EventHubs: EventHubs{
			SKU:                r.str("eventHubsSku"),
			Capacity:           r.integer("eventHubsCapacity"),
			AutoInflate:        r.boolean("eventHubsAutoInflate"),
			MaxThroughputUnits: r.integer("eventHubsMaxThroughputUnits"),
			Partitions:         r.integer("eventHubsPartitions"),
			DLQPartitions:      r.integer("eventHubsDlqPartitions"),
			RetentionHours:     r.integer("eventHubsRetentionHours"),
			ProducerPrincipals: r.strs("eventHubsProducers"),
		},
		Cosmos: Cosmos{
			Throughput:             r.str("cosmosThroughput"),
			AutoscaleMaxThroughput: r.integer("cosmosAutoscaleMaxThroughput"),
			BackupTier:             r.str("cosmosBackupTier"),
			FailoverRegions:        r.strs("cosmosFailoverRegions"),
			MultipleWriteLocations: r.boolean("cosmosMultipleWriteLocations"),
		},
		AKS: AKS{
			KubernetesVersion:           r.str("aksKubernetesVersion"),
			SKUTier:                     r.str("aksSkuTier"),
			SystemVMSize:                r.str("aksSystemVmSize"),
			SystemNodeCount:             r.integer("aksSystemNodeCount"),
			UserVMSize:                  r.str("aksUserVmSize"),
			UserMinCount:                r.integer("aksUserMinCount"),
			UserMaxCount:                r.integer("aksUserMaxCount"),
			PrivateAPIServer:            r.boolean("aksPrivateApiServer"),
			AuthorizedIPRanges:          r.strs("aksAuthorizedIpRanges"),
			UnrestrictedPublicAPIServer: r.boolean("aksUnrestrictedPublicApiServer"),
			DeployerObjectID:            r.str("aksDeployerObjectId"),
			DeployerPrincipalType:       r.str("aksDeployerPrincipalType"),
			UpgradeChannel:              r.str("aksUpgradeChannel"),
			NodeOSUpgradeChannel:        r.str("aksNodeOsUpgradeChannel"),
		},
		Postgres: Postgres{
			SKUName:                r.str("postgresSkuName"),
			Version:                r.str("postgresVersion"),
			StorageGB:              r.integer("postgresStorageGb"),
			HighAvailability:       r.boolean("postgresHighAvailability"),
			BackupRetentionDays:    r.integer("postgresBackupRetentionDays"),
			GeoRedundantBackup:     r.boolean("postgresGeoRedundantBackup"),
			PgBouncer:              r.boolean("postgresPgBouncer"),
			AdminObjectID:          r.str("postgresAdminObjectId"),
			AdminPrincipalName:     r.str("postgresAdminPrincipalName"),
			AdminPrincipalType:     r.str("postgresAdminPrincipalType"),
			ReportReaderPrincipals: r.strs("postgresReportReaders"),
		},
		Redis: Redis{
			Kind:             r.str("redisKind"),
			SKU:              r.str("redisSku"),
			Capacity:         r.integer("redisCapacity"),
			HighAvailability: r.boolean("redisHighAvailability"),
		},
		KeyVault: KeyVault{
			SKU:                     r.str("keyVaultSku"),
			PurgeProtection:         r.boolean("keyVaultPurgeProtection"),
			SoftDeleteRetentionDays: r.integer("keyVaultSoftDeleteRetentionDays"),
		},
		ACR:     ACR{SKU: r.str("acrSku")},
		Storage: Storage{SKU: r.str("storageSku")},
		Logs: Logs{
			RetentionDays: r.integer("logRetentionDays"),
			DailyQuotaGB:  r.integer("logDailyQuotaGb"),
		},
		Workloads:    readWorkloads(r),
		Spark:        readSpark(r),
		DeployRunner: readDeployRunner(r),
	}
}

// reader turns raw config values into typed ones, noting every problem.
type reader struct {
	lookup   Lookup
	problems []string
	kinds    map[string]Kind
}

func (r *reader) raw(name string, kind Kind) (string, bool) {
	if r.kinds != nil {
		r.kinds[name] = kind
	}
	key := Namespace + ":" + name
	v, ok := r.lookup(key)
	if !ok {
		r.problems = append(r.problems, key+" is not set (declare it in the stack file or give it a default in Pulumi.yaml)")
	}
	return v, ok
}

func (r *reader) str(name string) string {
	v, _ := r.raw(name, KindString)
	return v
}

func (r *reader) integer(name string) int {
	v, ok := r.raw(name, KindInteger)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s:%s must be an integer, got %q", Namespace, name, v))
	}
	return n
}

func (r *reader) boolean(name string) bool {
	v, ok := r.raw(name, KindBoolean)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s:%s must be true or false, got %q", Namespace, name, v))
	}
	return b
}

func (r *reader) strs(name string) []string {
	v, ok := r.raw(name, KindArray)
	if !ok {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s:%s must be a list of strings, got %q", Namespace, name, v))
		return nil
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
