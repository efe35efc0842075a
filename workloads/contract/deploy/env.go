package deploy

// Environment variables the workloads read, by area. The config loaders
// (ConfigFromEnv and the FromEnv readers of the adapters) read them by these
// names, so renaming one is one edit here.
const (
	// Every long-running workload: the ops (and, for the api, the API) listener, the shutdown deadline, the log level.
	EnvHTTPAddr        = "HTTP_ADDR"
	EnvShutdownTimeout = "SHUTDOWN_TIMEOUT"
	EnvLogLevel        = "LOG_LEVEL"
	// EnvCPUProfile, when set, is a file path: the workload writes a pprof
	// CPU profile there from start-up until it shuts down.
	EnvCPUProfile = "CPU_PROFILE"

	// Kafka / Event Hubs (package kafkaclient).
	EnvKafkaAuth             = "KAFKA_AUTH"
	EnvKafkaBrokers          = "KAFKA_BROKERS"
	EnvKafkaConnectionString = "KAFKA_CONNECTION_STRING"
	EnvKafkaDLQTopic         = "KAFKA_DLQ_TOPIC"
	EnvKafkaTLS              = "KAFKA_TLS"
	EnvKafkaTopic            = "KAFKA_TOPIC"

	// Cassandra / Cosmos DB for Apache Cassandra (package cqlsession).
	EnvCassandraConsistency   = "CASSANDRA_CONSISTENCY"
	EnvCassandraCosmos        = "CASSANDRA_COSMOS"
	EnvCassandraHosts         = "CASSANDRA_HOSTS"
	EnvCassandraKeyspace      = "CASSANDRA_KEYSPACE"
	EnvCassandraNumConns      = "CASSANDRA_NUM_CONNS"
	EnvCassandraPassword      = "CASSANDRA_PASSWORD"
	EnvCassandraPasswordFile  = "CASSANDRA_PASSWORD_FILE"
	EnvCassandraPasswordPoll  = "CASSANDRA_PASSWORD_POLL"
	EnvCassandraPort          = "CASSANDRA_PORT"
	EnvCassandraRotationDrain = "CASSANDRA_ROTATION_DRAIN"
	EnvCassandraTimeout       = "CASSANDRA_TIMEOUT"
	EnvCassandraTLS           = "CASSANDRA_TLS"
	EnvCassandraUsername      = "CASSANDRA_USERNAME"

	// PostgreSQL / PgBouncer (package pgstore; POSTGRES_REPORT_PASSWORD is migrate's).
	EnvPostgresAuth           = "POSTGRES_AUTH"
	EnvPostgresConnectTimeout = "POSTGRES_CONNECT_TIMEOUT"
	EnvPostgresDatabase       = "POSTGRES_DATABASE"
	EnvPostgresExecMode       = "POSTGRES_EXEC_MODE"
	EnvPostgresHost           = "POSTGRES_HOST"
	EnvPostgresMaxConns       = "POSTGRES_MAX_CONNS"
	EnvPostgresMigratePort    = "POSTGRES_MIGRATE_PORT"
	EnvPostgresMigrateURL     = "POSTGRES_MIGRATE_URL"
	EnvPostgresPassword       = "POSTGRES_PASSWORD"
	EnvPostgresPort           = "POSTGRES_PORT"
	EnvPostgresReportPassword = "POSTGRES_REPORT_PASSWORD"
	EnvPostgresSSLMode        = "POSTGRES_SSLMODE"
	EnvPostgresURL            = "POSTGRES_URL"
	EnvPostgresUser           = "POSTGRES_USER"

	// The PostgreSQL principals step (`migrate -principals`), which the
	// Pulumi program sets on its Job: each principal is an Entra ID managed
	// identity, its PostgreSQL role name (the identity's name) and its
	// object (principal) id; the api's pair is optional and grants it the
	// reporting reader role (its report page). POSTGRES_REPORT_READERS is a
	// JSON list of further principals granted the reporting reader role:
	// [{"name": ..., "objectId": ..., "type": "service"|"group"|"user"}].
	EnvPostgresMigratePrincipal    = "POSTGRES_MIGRATE_PRINCIPAL"
	EnvPostgresMigratePrincipalOID = "POSTGRES_MIGRATE_PRINCIPAL_OID"
	EnvPostgresEnrichPrincipal     = "POSTGRES_ENRICH_PRINCIPAL"
	EnvPostgresEnrichPrincipalOID  = "POSTGRES_ENRICH_PRINCIPAL_OID"
	EnvPostgresAPIPrincipal        = "POSTGRES_API_PRINCIPAL"
	EnvPostgresAPIPrincipalOID     = "POSTGRES_API_PRINCIPAL_OID"
	EnvPostgresReportReaders       = "POSTGRES_REPORT_READERS"

	// Redis / Azure Managed Redis (package rediscache).
	EnvRedisAddr       = "REDIS_ADDR"
	EnvRedisCluster    = "REDIS_CLUSTER"
	EnvRedisDB         = "REDIS_DB"
	EnvRedisEntra      = "REDIS_ENTRA"
	EnvRedisMaxRetries = "REDIS_MAX_RETRIES"
	EnvRedisPassword   = "REDIS_PASSWORD"
	EnvRedisPoolSize   = "REDIS_POOL_SIZE"
	EnvRedisTimeout    = "REDIS_TIMEOUT"
	EnvRedisTLS        = "REDIS_TLS"
	EnvRedisUsername   = "REDIS_USERNAME"

	// Cache lifetimes and sizes (changefeed and api).
	EnvCacheDeviceTTL       = "CACHE_DEVICE_TTL"
	EnvCacheEventTTL        = "CACHE_EVENT_TTL"
	EnvCacheSiteCriticalMax = "CACHE_SITE_CRITICAL_MAX"
	EnvCacheSiteFilledTTL   = "CACHE_SITE_FILLED_TTL"
	EnvCacheSiteTTL         = "CACHE_SITE_TTL"
	EnvCacheTTLJitter       = "CACHE_TTL_JITTER"

	// ingest.
	EnvIngestBatchWrites = "INGEST_BATCH_WRITES"
	EnvIngestConcurrency = "INGEST_CONCURRENCY"
	EnvIngestGroup       = "INGEST_GROUP"
	EnvIngestOutbox      = "INGEST_OUTBOX"

	// changefeed.
	EnvChangefeedCommitInterval = "CHANGEFEED_COMMIT_INTERVAL"
	EnvChangefeedCosmosTable    = "CHANGEFEED_COSMOS_TABLE"
	EnvChangefeedIdleMax        = "CHANGEFEED_IDLE_MAX"
	EnvChangefeedIdleMin        = "CHANGEFEED_IDLE_MIN"
	EnvChangefeedLeaseMaxSkew   = "CHANGEFEED_LEASE_MAX_SKEW"
	EnvChangefeedLeaseTTL       = "CHANGEFEED_LEASE_TTL"
	EnvChangefeedName           = "CHANGEFEED_NAME"
	EnvChangefeedOutboxGrace    = "CHANGEFEED_OUTBOX_GRACE"
	EnvChangefeedOutboxMaxSkew  = "CHANGEFEED_OUTBOX_MAX_SKEW"
	EnvChangefeedOwner          = "CHANGEFEED_OWNER"
	EnvChangefeedPageSize       = "CHANGEFEED_PAGE_SIZE"
	EnvChangefeedSource         = "CHANGEFEED_SOURCE"
	EnvChangefeedStart          = "CHANGEFEED_START"

	// api.
	EnvAPICacheCooldown = "API_CACHE_COOLDOWN"
	EnvAPICacheTimeout  = "API_CACHE_TIMEOUT"
	EnvAPIDrainDelay    = "API_DRAIN_DELAY"
	// EnvAPIEventCacheEntries and EnvAPIEventCacheBytes bound the api's
	// in-process cache of event documents; 0 turns it off.
	EnvAPIEventCacheEntries = "API_EVENT_CACHE_ENTRIES"
	EnvAPIEventCacheBytes   = "API_EVENT_CACHE_BYTES"
	// EnvOpsAddr moves the api's /healthz, /readyz and /metrics off its
	// public listener (HTTP_ADDR) to a listener of their own.
	EnvOpsAddr           = "OPS_ADDR"
	EnvAPIKeysSHA256     = "API_KEYS_SHA256"
	EnvAPILivePoll       = "API_LIVE_POLL"
	EnvAPILookbackDays   = "API_LOOKBACK_DAYS"
	EnvAPIMaxBodyBytes   = "API_MAX_BODY_BYTES"
	EnvAPIMaxRange       = "API_MAX_RANGE"
	EnvAPIMode           = "API_MODE"
	EnvAPIPageTokenKey   = "API_PAGE_TOKEN_KEY"
	EnvAPIRateBurst      = "API_RATE_BURST"
	EnvAPIRateLimit      = "API_RATE_LIMIT"
	EnvAPIRequestTimeout = "API_REQUEST_TIMEOUT"

	// The Spark stream job (workloads/spark), besides KAFKA_* and CASSANDRA_*.
	EnvSparkCheckpoint      = "SPARK_CHECKPOINT"
	EnvSparkGroupPrefix     = "SPARK_GROUP_PREFIX"
	EnvSparkMaster          = "SPARK_MASTER"
	EnvSparkSilenceAfter    = "SPARK_SILENCE_AFTER"
	EnvSparkStartingOffsets = "SPARK_STARTING_OFFSETS"
	EnvSparkTrigger         = "SPARK_TRIGGER"
	EnvSparkWatermark       = "SPARK_WATERMARK"

	// enrich.
	EnvEnrichCatchup         = "ENRICH_CATCHUP"
	EnvEnrichChunkRows       = "ENRICH_CHUNK_ROWS"
	EnvEnrichHeartbeat       = "ENRICH_HEARTBEAT"
	EnvEnrichLockTimeout     = "ENRICH_LOCK_TIMEOUT"
	EnvEnrichModelsURL       = "ENRICH_MODELS_URL"
	EnvEnrichPageSize        = "ENRICH_PAGE_SIZE"
	EnvEnrichReadAttempts    = "ENRICH_READ_ATTEMPTS"
	EnvEnrichReadConcurrency = "ENRICH_READ_CONCURRENCY"
	EnvEnrichSettle          = "ENRICH_SETTLE"
	EnvEnrichStaleAfter      = "ENRICH_STALE_AFTER"
	EnvEnrichWorkMem         = "ENRICH_WORK_MEM"
	// EnvEnrichEngine picks the engine that enriches a window: go (this
	// process) or spark (the Spark job io.sluice.spark.EnrichJob, launched
	// by the command of EnvEnrichSparkCommand or, on Kubernetes, as a
	// SparkApplication made from the template at EnvEnrichSparkApplication).
	EnvEnrichEngine           = "ENRICH_ENGINE"
	EnvEnrichSparkCommand     = "ENRICH_SPARK_COMMAND"
	EnvEnrichSparkApplication = "ENRICH_SPARK_APPLICATION"
	// EnvEnrichSparkTimeout bounds one Spark run, launch to exit.
	EnvEnrichSparkTimeout = "ENRICH_SPARK_TIMEOUT"
)
