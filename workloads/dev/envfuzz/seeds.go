package envfuzz

import "github.com/sluicehq/sluice/workloads/contract/deploy"

// Parts of seed environments: each store as a local run and as an Azure
// deployment configure it. Merge combines them.
var (
	LocalKafka = map[string]string{deploy.EnvKafkaBrokers: "127.0.0.1:19092", deploy.EnvKafkaTopic: "events-test.1", deploy.EnvKafkaDLQTopic: "events-test.1.dlq"}
	AzureKafka = map[string]string{
		deploy.EnvKafkaBrokers: "sluice-ns.servicebus.windows.net:9093", deploy.EnvKafkaAuth: "oauth",
		deploy.EnvKafkaTopic: "events", deploy.EnvKafkaDLQTopic: "events.dlq",
	}
	PlainKafka = map[string]string{
		deploy.EnvKafkaBrokers: "sluice-ns.servicebus.windows.net:9093", deploy.EnvKafkaAuth: "plain",
		deploy.EnvKafkaConnectionString: "Endpoint=sb://sluice-ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s",
	}
	LocalCassandra  = map[string]string{deploy.EnvCassandraHosts: "127.0.0.1", deploy.EnvCassandraPort: "19042"}
	CosmosCassandra = map[string]string{
		deploy.EnvCassandraHosts: "sluice.cassandra.cosmos.azure.com", deploy.EnvCassandraUsername: "sluice",
		deploy.EnvCassandraPasswordFile: "/var/run/secrets/cosmos/key", deploy.EnvCassandraConsistency: "LOCAL_QUORUM",
		deploy.EnvCassandraTimeout: "15s",
	}
	LocalRedis    = map[string]string{deploy.EnvRedisAddr: "127.0.0.1:16379", deploy.EnvRedisDB: "1"}
	AzureRedis    = map[string]string{deploy.EnvRedisAddr: "sluice.westeurope.redis.azure.net:10000"}
	LocalPostgres = map[string]string{
		deploy.EnvPostgresHost: "127.0.0.1", deploy.EnvPostgresPort: "15432", deploy.EnvPostgresUser: "sluice",
		deploy.EnvPostgresPassword: "sluice", deploy.EnvPostgresSSLMode: "disable",
	}
	URLPostgres   = map[string]string{deploy.EnvPostgresURL: "postgres://sluice:sluice@127.0.0.1:16432/sluice?sslmode=disable"}
	AzurePostgres = map[string]string{
		deploy.EnvPostgresHost: "sluice.postgres.database.azure.com", deploy.EnvPostgresPort: "6432",
		deploy.EnvPostgresUser: "sluice-enrich", deploy.EnvPostgresAuth: "entra", deploy.EnvPostgresExecMode: "exec",
	}
)

// Merge is the union of envs, later ones winning.
func Merge(envs ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, e := range envs {
		for k, v := range e {
			out[k] = v
		}
	}
	return out
}
