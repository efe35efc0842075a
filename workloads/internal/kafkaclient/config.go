package kafkaclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

// Auth modes.
const (
	AuthNone            = "none"
	AuthPlain           = "plain"
	AuthOAuth           = "oauth"
	eventHubsHostSuffix = ".servicebus.windows.net"
)

// Client settings fixed by the Event Hubs notes.
const (
	MaxMessageBytes = 1_000_000
	ProducerTimeout = 30 * time.Second
	ReadTimeout     = 60 * time.Second
	MetadataRefresh = 3 * time.Minute
	SessionTimeout  = 30 * time.Second
	HeartbeatPeriod = 3 * time.Second
	commitInterval  = time.Second
	// ProducerLinger, FetchMinBytes and FetchMaxWait trade at most a few
	// milliseconds of latency for far fewer requests.
	ProducerLinger  = 5 * time.Millisecond
	FetchMinBytes   = 16 << 10
	FetchMaxWait    = 10 * time.Millisecond
	defaultTopic    = "events"
	defaultDLQTopic = "events.dlq"
)

// Config is the Kafka part of a workload's configuration.
type Config struct {
	Brokers []string
	// Auth is none, plain or oauth.
	Auth string
	// ConnectionString is the Event Hubs connection string for plain auth.
	ConnectionString string `json:"-"`
	// TLS is on for plain and oauth (Event Hubs requires it) and off by
	// default for none.
	TLS      bool
	ClientID string
	Topic    string
	DLQTopic string
}

// FromEnv reads KAFKA_BROKERS, KAFKA_AUTH, KAFKA_CONNECTION_STRING,
// KAFKA_TLS, KAFKA_TOPIC and KAFKA_DLQ_TOPIC into a Config.
func FromEnv(r *envconfig.Reader, clientID string) Config {
	c := Config{
		Brokers:  r.List(deploy.EnvKafkaBrokers, nil),
		Auth:     r.OneOf(deploy.EnvKafkaAuth, AuthNone, AuthNone, AuthPlain, AuthOAuth),
		ClientID: clientID,
		Topic:    r.String(deploy.EnvKafkaTopic, defaultTopic),
		DLQTopic: r.String(deploy.EnvKafkaDLQTopic, defaultDLQTopic),
	}
	if len(c.Brokers) == 0 {
		r.Problem("KAFKA_BROKERS is required (host:port, comma-separated)")
	}
	for _, t := range [][2]string{{deploy.EnvKafkaTopic, c.Topic}, {deploy.EnvKafkaDLQTopic, c.DLQTopic}} {
		if !ValidTopic(t[1]) {
			r.Problem("%s=%q is not a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -, not . or ..)", t[0], t[1])
		}
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			r.Problem("KAFKA_BROKERS entry %q is not host:port", b)
		}
	}
	c.TLS = r.Bool(deploy.EnvKafkaTLS, c.Auth != AuthNone)
	if c.Auth == AuthPlain {
		c.ConnectionString = r.Required(deploy.EnvKafkaConnectionString)
		if c.ConnectionString != "" && !strings.HasPrefix(c.ConnectionString, "Endpoint=") {
			r.Problem("KAFKA_CONNECTION_STRING must be an Event Hubs connection string (Endpoint=sb://…)")
		}
	}
	if c.Auth != AuthNone && !c.TLS {
		r.Problem("KAFKA_TLS=false is not allowed with KAFKA_AUTH=%s: credentials never travel in clear", c.Auth)
	}
	return c
}

var topicPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

// ValidTopic reports whether Kafka accepts name for a topic.
func ValidTopic(name string) bool {
	return topicPattern.MatchString(name) && name != "." && name != ".."
}

// Sarama returns the sarama configuration for c. The token source is used
// only for oauth; nil means azidentity's DefaultAzureCredential (workload
// identity on AKS).
func (c Config) Sarama(tokens azcore.TokenCredential) (*sarama.Config, error) {
	sc := sarama.NewConfig()
	sc.ClientID = c.ClientID
	if sc.ClientID == "" {
		sc.ClientID = "sluice"
	}
	sc.Version = sarama.V1_0_0_0
	sc.Net.DialTimeout = 10 * time.Second
	sc.Net.ReadTimeout = ReadTimeout
	sc.Net.WriteTimeout = 30 * time.Second
	sc.Metadata.RefreshFrequency = MetadataRefresh
	sc.Metadata.Retry.Max = 5
	sc.Metadata.Retry.Backoff = 500 * time.Millisecond

	sc.Producer.MaxMessageBytes = MaxMessageBytes
	sc.Producer.Timeout = ProducerTimeout
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.Compression = sarama.CompressionNone
	sc.Producer.Idempotent = false
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	sc.Producer.Retry.Max = 10
	sc.Producer.Retry.Backoff = 500 * time.Millisecond
	sc.Producer.Partitioner = sarama.NewHashPartitioner
	// A produce request per record costs the broker (and an Event Hubs
	// namespace's request budget) far more than the record itself; a
	// short linger groups records into one request at a latency cost
	// well under anything a reader of the events can see.
	sc.Producer.Flush.Frequency = ProducerLinger

	sc.Consumer.Group.Session.Timeout = SessionTimeout
	sc.Consumer.Group.Heartbeat.Interval = HeartbeatPeriod
	sc.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRoundRobin()}
	// A new group starts at the oldest record: nothing produced before the
	// first deployment is skipped.
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	sc.Consumer.Offsets.AutoCommit.Enable = true
	// Event Hubs throttles commits at 4/s per partition: once a second is
	// well under it.
	sc.Consumer.Offsets.AutoCommit.Interval = commitInterval
	sc.Consumer.Return.Errors = true
	// Fetches likewise: without a minimum the broker answers each fetch
	// as soon as one record is there, a request per few records.
	sc.Consumer.Fetch.Min = FetchMinBytes
	sc.Consumer.MaxWaitTime = FetchMaxWait

	if c.TLS {
		sc.Net.TLS.Enable = true
		sc.Net.TLS.Config = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch c.Auth {
	case AuthNone, "":
	case AuthPlain:
		sc.Net.SASL.Enable = true
		sc.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		sc.Net.SASL.User = "$ConnectionString"
		sc.Net.SASL.Password = c.ConnectionString
	case AuthOAuth:
		if len(c.Brokers) == 0 {
			return nil, fmt.Errorf("kafka oauth: no broker to derive the token scope from")
		}
		host, _, err := net.SplitHostPort(c.Brokers[0])
		if err != nil {
			return nil, fmt.Errorf("kafka oauth: broker %q: %w", c.Brokers[0], err)
		}
		if tokens == nil {
			cred, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, fmt.Errorf("kafka oauth: azure credential: %w", err)
			}
			tokens = cred
		}
		sc.Net.SASL.Enable = true
		sc.Net.SASL.Mechanism = sarama.SASLTypeOAuth
		sc.Net.SASL.TokenProvider = &entraTokenProvider{cred: tokens, scope: TokenScope(host)}
	default:
		return nil, fmt.Errorf("kafka: unknown auth mode %q", c.Auth)
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("kafka config: %w", err)
	}
	return sc, nil
}

// TokenScope is the Entra ID scope of an Event Hubs namespace host.
func TokenScope(host string) string {
	return "https://" + host + "/.default"
}

// IsEventHubs reports whether a broker address is an Event Hubs namespace.
func IsEventHubs(broker string) bool {
	host, _, err := net.SplitHostPort(broker)
	if err != nil {
		host = broker
	}
	return strings.HasSuffix(host, eventHubsHostSuffix)
}

// entraTokenProvider hands sarama a fresh Entra ID token per connection;
// azidentity caches and refreshes it before expiry.
type entraTokenProvider struct {
	cred  azcore.TokenCredential
	scope string
}

func (p *entraTokenProvider) Token() (*sarama.AccessToken, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := p.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{p.scope}})
	if err != nil {
		return nil, fmt.Errorf("entra id token for %s: %w", p.scope, err)
	}
	return &sarama.AccessToken{Token: tok.Token}, nil
}
