package sizing

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/infra/internal/config"
)

// Input is what a user plans for.
type Input struct {
	Rate          float64 // events per second, sustained peak
	EventBytes    int     // bytes of one event as stored (default 400)
	RetentionDays int     // Event Hubs retention (default 7)
	CriticalShare float64 // share of events that are critical (default 0.05)
	Sites         int     // sites with a critical list in Redis (default 1,000)
	EventTTLHours int     // lifetime of event:{id} in Redis (default 24)
	SiteMax       int     // critical events kept per site (default 100)
}

// Plan is the result: the stack settings and why.
type Plan struct {
	Settings map[string]any // stack config keys (without the sluice: prefix)
	Reasons  []string
	// Dedicated is set when Event Hubs needs a Dedicated cluster, which a
	// stack cannot declare (sluice:eventHubsSku takes Standard or Premium).
	Dedicated bool
}

func (in *Input) defaults() error {
	if in.Rate <= 0 || math.IsNaN(in.Rate) || math.IsInf(in.Rate, 0) {
		return errors.New("sizing: RATE must be a positive number of events per second")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&in.EventBytes, 400)
	def(&in.RetentionDays, 7)
	def(&in.Sites, 1000)
	def(&in.EventTTLHours, 24)
	def(&in.SiteMax, 100)
	if in.CriticalShare == 0 {
		in.CriticalShare = 0.05
	}
	switch {
	case in.EventBytes < 1 || in.EventBytes > 1024*1024:
		return errors.New("sizing: EVENT_BYTES must be 1 to 1048576")
	case in.RetentionDays < 1 || in.RetentionDays > 90:
		return errors.New("sizing: RETENTION_DAYS must be 1 to 90")
	case in.CriticalShare < 0 || in.CriticalShare > 1:
		return errors.New("sizing: CRITICAL_SHARE must be between 0 and 1")
	}
	return nil
}

func ceil(x float64) int { return int(math.Ceil(x - 1e-9)) }

// Size plans a stack for in.
func Size(in Input) (*Plan, error) {
	if err := in.defaults(); err != nil {
		return nil, err
	}
	p := &Plan{Settings: map[string]any{}}
	say := func(format string, args ...any) { p.Reasons = append(p.Reasons, fmt.Sprintf(format, args...)) }
	mbps := in.Rate * float64(in.EventBytes) / 1e6
	say("ingress: %.0f events/s × %d B = %.2f MB/s", in.Rate, in.EventBytes, mbps)

	// Ingest replicas first: partitions must be at least that many.
	ingest := max(2, ceil(in.Rate/IngestEventsPerReplica))
	partitions := max(ceil(in.Rate/PartitionIngressEvents), ceil(mbps/PartitionIngressMBps), ingest)
	say("partitions: ≥ %.0f/%d events/s and ≥ %.2f/%.0f MB/s per partition, ≥ %d ingest replicas → %d",
		in.Rate, PartitionIngressEvents, mbps, PartitionIngressMBps, ingest, partitions)

	tus := max(ceil(in.Rate/StandardTUIngressEvents), ceil(mbps/StandardTUIngressMBps), 1)
	switch {
	case tus <= config.MaxThroughputUnitsStandard && partitions <= config.MaxPartitionsBasicStandard && in.RetentionDays <= StandardMaxRetentionDays:
		p.Settings["eventHubsSku"] = "Standard"
		p.Settings["eventHubsCapacity"] = tus
		say("Event Hubs Standard: %d throughput units (1 MB/s or 1,000 events/s each, at most %d), %d partitions (at most %d)",
			tus, config.MaxThroughputUnitsStandard, partitions, config.MaxPartitionsBasicStandard)
	default:
		pus := 1
		for pus < ceil(mbps/PremiumPUIngressMBps) {
			pus *= 2
		}
		if pus <= 16 && partitions <= config.MaxPartitionsPremium {
			p.Settings["eventHubsSku"] = "Premium"
			p.Settings["eventHubsCapacity"] = pus
			say("Event Hubs Premium: %d processing units (~%.0f MB/s each; 1, 2, 4, 8 or 16), %d partitions (at most %d); Standard stops at %d TUs, %d partitions, %d days",
				pus, PremiumPUIngressMBps, partitions, config.MaxPartitionsPremium, config.MaxThroughputUnitsStandard, config.MaxPartitionsBasicStandard, StandardMaxRetentionDays)
		} else {
			p.Dedicated = true
			cus := max(1, ceil(mbps/DedicatedCUIngressMBps))
			say("Event Hubs Dedicated required: %.0f MB/s or %d partitions exceed Premium's 16 PUs (~%.0f MB/s) or %d partitions; about %d capacity units (~%.0f MB/s each). A stack cannot declare it (sluice:eventHubsSku is Standard or Premium): create the cluster and point the workloads at it",
				mbps, partitions, 16*PremiumPUIngressMBps, config.MaxPartitionsPremium, cus, DedicatedCUIngressMBps)
		}
	}
	if !p.Dedicated {
		p.Settings["eventHubsPartitions"] = partitions
		p.Settings["eventHubsRetentionHours"] = in.RetentionDays * 24
	}

	// Cosmos DB.
	rows := RowsPerEvent + in.CriticalShare
	kb := math.Max(1, math.Ceil(float64(in.EventBytes)/1024))
	ru := in.Rate * rows * kb * CosmosRUPerKBWrite * CosmosHeadroom
	maxRU := max(1000, ceil(ru/1000)*1000)
	p.Settings["cosmosThroughput"] = "autoscale"
	p.Settings["cosmosAutoscaleMaxThroughput"] = maxRU
	say("Cosmos DB: %.2f rows per event × %.0f KB × %.0f RU per KB write × %.1f headroom = %.0f RU/s → autoscale max %d RU/s (it scales down to 10%%)",
		rows, kb, CosmosRUPerKBWrite, CosmosHeadroom, ru, maxRU)
	perDay := in.Rate * rows * float64(in.EventBytes) * 86400 / 1e9
	say("Cosmos DB storage: %.1f GB a day (%.0f GB a month) before indexes", perDay, perDay*30)

	// Workloads and nodes.
	// Every stored event is a change: the change feed writes each device's
	// latest reading, and the critical events' lists.
	wantFeed := max(2, ceil(in.Rate/ChangefeedChangesPerReplica))
	changefeed := min(5, wantFeed)
	p.Settings["ingestMinReplicas"] = 2
	p.Settings["ingestMaxReplicas"] = ingest
	p.Settings["changefeedReplicas"] = changefeed
	say("ingest: %.0f events/s ÷ %d per replica (measured) → up to %d replicas (KEDA scales between 2 and that), at most the %d partitions",
		in.Rate, IngestEventsPerReplica, ingest, partitions)
	say("changefeed: every change (%.0f/s: latest readings, critical lists) ÷ %d per replica → %d (2 for a spare lease holder; the stack takes at most 5)",
		in.Rate, ChangefeedChangesPerReplica, changefeed)
	if wantFeed > 5 {
		say("the change feed needs %d lease holders at this rate, more than the 5 a stack runs: measure a replica's rate on Cosmos DB before going live", wantFeed)
	}
	cores := float64(ingest) + float64(changefeed)*0.5 + 3*0.5 // api replicas at half a core
	nodes := max(3, ceil(cores/UserNodeCores))
	p.Settings["aksUserVmSize"] = UserNodeVMSize
	p.Settings["aksUserMinCount"] = 3
	p.Settings["aksUserMaxCount"] = max(nodes, 3)
	say("AKS user pool: %.1f cores for ingest, changefeed and api ÷ %.1f per %s → %d nodes at most", cores, UserNodeCores, UserNodeVMSize, nodes)

	// PostgreSQL for the hourly enrich window.
	window := in.Rate * 3600
	seconds := window / EnrichEventsPerSecond
	sku := "Standard_D2ds_v5"
	for _, s := range []struct {
		sku    string
		factor float64
	}{{"Standard_D4ds_v5", 2}, {"Standard_D8ds_v5", 4}, {"Standard_D16ds_v5", 8}, {"Standard_D32ds_v5", 16}} {
		if seconds <= EnrichWindowBudgetSeconds {
			break
		}
		sku, seconds = s.sku, window/(EnrichEventsPerSecond*s.factor)
	}
	need := in.Rate * 86400 * EnrichedRowDays * EnrichedRowBytes / 1e9
	storage := 128
	for float64(storage) < need*1.25 && storage < 16384 {
		storage *= 2
	}
	if float64(storage) < need*1.25 {
		storage = 32767
	}
	p.Settings["postgresSkuName"] = sku
	p.Settings["postgresStorageGb"] = storage
	say("PostgreSQL: an hour is %.0f events; enrich does %d events/s per process (measured) → %s (~%.0f s a window, budget %d s); %.0f GB for %d days of enriched rows → %d GB (Flexible Server sizes)",
		window, EnrichEventsPerSecond, sku, seconds, EnrichWindowBudgetSeconds, need, EnrichedRowDays, storage)
	if float64(storage) < need*1.25 {
		say("%d days of enriched rows exceed one server's 32 TiB: keep fewer days in enriched_events (site_hourly stays small)", EnrichedRowDays)
	}
	if seconds > EnrichWindowBudgetSeconds {
		say("enrich does not fit the hour on one server at this rate: split the window (the Spark engine) or enrich more often")
	}

	// Redis: the critical set.
	critical := in.Rate * in.CriticalShare * float64(in.EventTTLHours) * 3600
	memGB := (critical*float64(in.EventBytes)*2 + float64(in.Sites*in.SiteMax)*64) / 1e9 // value plus key and overhead
	redis := "Balanced_B0"
	for _, s := range []struct {
		sku string
		gb  float64
	}{{"Balanced_B0", 0.5}, {"Balanced_B1", 1}, {"Balanced_B3", 3}, {"Balanced_B5", 6}, {"Balanced_B10", 12}, {"Balanced_B20", 24}, {"Balanced_B50", 60}, {"Balanced_B100", 120}, {"Balanced_B150", 180}, {"Balanced_B250", 240}, {"Balanced_B350", 360}, {"Balanced_B500", 480}, {"Balanced_B700", 720}, {"Balanced_B1000", 960}} {
		redis = s.sku
		if memGB*1.25 <= s.gb {
			break
		}
	}
	if memGB*1.25 > 960 {
		say("the critical set (%.0f GB) exceeds the largest Balanced SKU: shorten CACHE_EVENT_TTL or cluster across databases", memGB)
	}
	p.Settings["redisKind"] = "managed"
	p.Settings["redisSku"] = redis
	say("Redis: %.0f critical events live %d h (event:{id}) plus %d sites × %d critical ids ≈ %.2f GB → %s (25%% headroom)",
		critical, in.EventTTLHours, in.Sites, in.SiteMax, memGB, redis)
	return p, nil
}

// Fragment renders the settings as a stack file's config section.
func (p *Plan) Fragment() string {
	keys := make([]string, 0, len(p.Settings))
	for k := range p.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("config:\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s:%s: %v\n", config.Namespace, k, p.Settings[k])
	}
	return b.String()
}

// Values are the settings in the form the engine hands the program (for
// loading them through the validator).
func (p *Plan) Values() map[string]string {
	out := map[string]string{}
	for k, v := range p.Settings {
		out[config.Namespace+":"+k] = fmt.Sprint(v)
	}
	return out
}
