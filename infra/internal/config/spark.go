package config

import (
	"regexp"
	"strconv"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Spark is how the Spark stream job runs on AKS: a SparkApplication the
// Spark Operator runs, with one driver and Executors executors.
type Spark struct {
	// Stream turns the stream job (and the Spark Operator) on. Off, the
	// stack has no Spark at all and needs no stream image.
	Stream bool
	// Executors, ExecutorCores and ExecutorMemory size the executors;
	// DriverMemory the driver (one core). Memory is a JVM heap size as
	// Spark writes it (512m, 2g); Kubernetes adds Spark's overhead.
	Executors      int
	ExecutorCores  int
	ExecutorMemory string
	DriverMemory   string
	// CheckpointGB is the checkpoint volume's size (Azure Files, shared by
	// the driver and the executors: the stream state lives there).
	CheckpointGB int
	// Trigger is the micro-batch interval (SPARK_TRIGGER), a Go duration.
	Trigger string
	// OperatorImage replaces the Spark Operator chart's own image:
	// "<registry>/<repository>:<tag>@sha256:<hex>". The chart's image
	// submits with Spark 4.0's spark-submit while the job is Spark 3.5;
	// an operator image built on Spark 3.5 removes that gap. Empty keeps
	// the chart's.
	OperatorImage string
	// EnrichEngine is the enrich job's engine (sluice:enrichEngine):
	// EnrichEngineGo enriches in the CronJob's own process,
	// EnrichEngineSpark has the CronJob launch each window as a
	// SparkApplication (the Spark Operator is then deployed, and the
	// stream image, which holds both Spark jobs).
	EnrichEngine string
	// Enrich sizes the Spark enrich job's executors and driver, checked
	// like the stream job's.
	Enrich SparkEnrich
}

// SparkEnrich sizes one Spark enrich run: Executors executors of
// ExecutorCores cores and ExecutorMemory each, a one-core driver of
// DriverMemory.
type SparkEnrich struct {
	Executors      int
	ExecutorCores  int
	ExecutorMemory string
	DriverMemory   string
}

// The enrich engines (deploy.EnvEnrichEngine's values).
const (
	EnrichEngineGo    = "go"
	EnrichEngineSpark = "spark"
)

// EnrichOnSpark tells whether the enrich job runs on Spark.
func (s Spark) EnrichOnSpark() bool { return s.EnrichEngine == EnrichEngineSpark }

// Operator tells whether the stack deploys the Spark Operator: for the
// stream job, for the Spark enrich job, or both.
func (s Spark) Operator() bool { return s.Stream || s.EnrichOnSpark() }

// OperatorImageParts splits OperatorImage into the chart's image.registry,
// image.repository and image.tag values (the tag carries the digest).
func (s Spark) OperatorImageParts() (registry, repository, tag string, ok bool) {
	m := operatorImage.FindStringSubmatch(s.OperatorImage)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3] + "@" + m[4], true
}

// Bounds of the Spark settings.
const (
	MaxSparkExecutors     = 50
	MaxSparkExecutorCores = 16
	// MinSparkCheckpointGB is the smallest Azure Files share a PVC gets.
	MinSparkCheckpointGB = 1
	MaxSparkCheckpointGB = 1024
)

var (
	sparkMemory  = regexp.MustCompile(`^([1-9][0-9]{0,5})(m|g)$`)
	sparkTrigger = regexp.MustCompile(`^([1-9][0-9]*)(ms|s|m)$`)
	// operatorImage is host/repository:tag@sha256:hex; the chart joins
	// registry, repository and tag as "<registry>/<repository>:<tag>".
	operatorImage = regexp.MustCompile(`^((?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::[0-9]{1,5})?)/([a-z0-9]+(?:[._/-][a-z0-9]+)*):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})@(sha256:[0-9a-f]{64})$`)
)

func readSpark(r *reader) Spark {
	return Spark{
		Stream:         r.boolean("sparkStream"),
		Executors:      r.integer("sparkExecutors"),
		ExecutorCores:  r.integer("sparkExecutorCores"),
		ExecutorMemory: r.str("sparkExecutorMemory"),
		DriverMemory:   r.str("sparkDriverMemory"),
		CheckpointGB:   r.integer("sparkCheckpointGb"),
		Trigger:        r.str("sparkTrigger"),
		OperatorImage:  r.str("sparkOperatorImage"),
		EnrichEngine:   r.str("enrichEngine"),
		Enrich: SparkEnrich{
			Executors:      r.integer("enrichSparkExecutors"),
			ExecutorCores:  r.integer("enrichSparkExecutorCores"),
			ExecutorMemory: r.str("enrichSparkExecutorMemory"),
			DriverMemory:   r.str("enrichSparkDriverMemory"),
		},
	}
}

// SparkMemoryMiB is a Spark memory setting (512m, 2g) in MiB; ok is false
// when it is not one.
func SparkMemoryMiB(v string) (int, bool) {
	m := sparkMemory.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	if m[2] == "g" {
		n *= 1024
	}
	return n, true
}

func (v *validator) spark(c *Config) {
	s := c.Spark
	v.between("sparkExecutors", s.Executors, 1, MaxSparkExecutors)
	v.between("sparkExecutorCores", s.ExecutorCores, 1, MaxSparkExecutorCores)
	v.between("sparkCheckpointGb", s.CheckpointGB, MinSparkCheckpointGB, MaxSparkCheckpointGB)
	v.sparkMemory("sparkExecutorMemory", s.ExecutorMemory)
	v.sparkMemory("sparkDriverMemory", s.DriverMemory)
	v.oneOf("enrichEngine", s.EnrichEngine, EnrichEngineGo, EnrichEngineSpark)
	v.between("enrichSparkExecutors", s.Enrich.Executors, 1, MaxSparkExecutors)
	v.between("enrichSparkExecutorCores", s.Enrich.ExecutorCores, 1, MaxSparkExecutorCores)
	v.sparkMemory("enrichSparkExecutorMemory", s.Enrich.ExecutorMemory)
	v.sparkMemory("enrichSparkDriverMemory", s.Enrich.DriverMemory)
	if _, _, _, ok := s.OperatorImageParts(); s.OperatorImage != "" && !ok {
		v.addf("sluice:sparkOperatorImage %q is not <registry>/<repository>:<tag>@sha256:<64 hex> (the chart needs a tag, the digest pins it)", s.OperatorImage)
	}
	if !sparkTrigger.MatchString(s.Trigger) {
		v.addf("sluice:sparkTrigger %q is not a trigger interval (a whole number of ms, s or m, like 10s)", s.Trigger)
	}
}

func (v *validator) sparkMemory(key, value string) {
	mib, ok := SparkMemoryMiB(value)
	switch {
	case !ok:
		v.addf("sluice:%s %q is not a Spark memory size (a whole number of m or g, like 512m or 2g)", key, value)
	case mib < 512:
		v.addf("sluice:%s is %s; Spark needs at least 512m", key, value)
	case mib > 64*1024:
		v.addf("sluice:%s is %s; at most 64g", key, value)
	}
}

// DeployedImages are the workloads whose images the stack deploys: every
// Go workload, and the stream image (both Spark jobs) when either Spark
// job is on.
func (c *Config) DeployedImages() []string {
	var out []string
	for _, w := range ImageWorkloads {
		if w == deploy.Stream && !c.Spark.Operator() {
			continue
		}
		out = append(out, w)
	}
	return out
}
