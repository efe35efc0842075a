package kafkaclient

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

// fakeCredential hands out a fixed token and remembers the scopes asked for.
type fakeCredential struct{ scopes []string }

func (f *fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.scopes = append(f.scopes, o.Scopes...)
	return azcore.AccessToken{Token: "entra-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func fromEnv(t *testing.T, env map[string]string) (Config, error) {
	t.Helper()
	r := envconfig.NewFrom(envconfig.FromMap(env))
	c := FromEnv(r, "test")
	return c, r.Err()
}

// The settings AZURE-NOTES fixes for sarama against Event Hubs, checked on
// every auth mode.
func TestSaramaIsEventHubsSafe(t *testing.T) {
	cred := &fakeCredential{}
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"none", map[string]string{"KAFKA_BROKERS": "127.0.0.1:19092"}},
		{"plain", map[string]string{"KAFKA_BROKERS": "ns.servicebus.windows.net:9093", "KAFKA_AUTH": "plain",
			"KAFKA_CONNECTION_STRING": "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s"}},
		{"oauth", map[string]string{"KAFKA_BROKERS": "ns.servicebus.windows.net:9093", "KAFKA_AUTH": "oauth"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := fromEnv(t, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := c.Sarama(cred)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Version != sarama.V1_0_0_0 {
				t.Errorf("protocol version %s, want 1.0", sc.Version)
			}
			if sc.Producer.MaxMessageBytes > 1_000_000 {
				t.Errorf("Producer.MaxMessageBytes %d > 1,000,000", sc.Producer.MaxMessageBytes)
			}
			if sc.Producer.Timeout < 20*time.Second {
				t.Errorf("producer timeout %s < 20 s", sc.Producer.Timeout)
			}
			if sc.Metadata.RefreshFrequency >= 240*time.Second {
				t.Errorf("metadata refresh %s, want < 240 s", sc.Metadata.RefreshFrequency)
			}
			if sc.Consumer.Group.Session.Timeout != 30*time.Second {
				t.Errorf("session timeout %s, want 30 s", sc.Consumer.Group.Session.Timeout)
			}
			if sc.Consumer.Offsets.AutoCommit.Interval < 250*time.Millisecond {
				t.Errorf("commit interval %s is over Event Hubs' 4 commits/s per partition", sc.Consumer.Offsets.AutoCommit.Interval)
			}
			// Batching costs a few milliseconds at most.
			if f := sc.Producer.Flush.Frequency; f <= 0 || f > 10*time.Millisecond {
				t.Errorf("producer linger %s, want (0, 10 ms]", f)
			}
			if sc.Consumer.Fetch.Min < 1024 || sc.Consumer.MaxWaitTime <= 0 || sc.Consumer.MaxWaitTime > 20*time.Millisecond {
				t.Errorf("fetch min %d bytes / max wait %s, want ≥ 1 KiB and ≤ 20 ms", sc.Consumer.Fetch.Min, sc.Consumer.MaxWaitTime)
			}
			secured := tc.name != "none"
			if sc.Net.TLS.Enable != secured || sc.Net.SASL.Enable != secured {
				t.Errorf("TLS %v, SASL %v; want both %v", sc.Net.TLS.Enable, sc.Net.SASL.Enable, secured)
			}
			if secured && sc.Net.TLS.Config.MinVersion < tls.VersionTLS12 {
				t.Errorf("TLS minimum %x, want 1.2 or later", sc.Net.TLS.Config.MinVersion)
			}
			switch tc.name {
			case "plain":
				if sc.Net.SASL.Mechanism != sarama.SASLTypePlaintext || sc.Net.SASL.User != "$ConnectionString" || !strings.HasPrefix(sc.Net.SASL.Password, "Endpoint=") {
					t.Errorf("plain SASL %s user %q", sc.Net.SASL.Mechanism, sc.Net.SASL.User)
				}
			case "oauth":
				if sc.Net.SASL.Mechanism != sarama.SASLTypeOAuth {
					t.Fatalf("SASL mechanism %s, want OAUTHBEARER", sc.Net.SASL.Mechanism)
				}
				tok, err := sc.Net.SASL.TokenProvider.Token()
				if err != nil || tok.Token != "entra-token" {
					t.Fatalf("token %v, %v", tok, err)
				}
				if len(cred.scopes) != 1 || cred.scopes[0] != "https://ns.servicebus.windows.net/.default" {
					t.Errorf("token scopes %v", cred.scopes)
				}
			}
		})
	}
}

func TestFromEnvRejectsUnsafeSettings(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no brokers":           {map[string]string{}, "KAFKA_BROKERS is required"},
		"broker without port":  {map[string]string{"KAFKA_BROKERS": "localhost"}, "not host:port"},
		"plain without string": {map[string]string{"KAFKA_BROKERS": "ns.servicebus.windows.net:9093", "KAFKA_AUTH": "plain"}, "KAFKA_CONNECTION_STRING"},
		"not a connection string": {map[string]string{"KAFKA_BROKERS": "ns.servicebus.windows.net:9093", "KAFKA_AUTH": "plain",
			"KAFKA_CONNECTION_STRING": "secret"}, "Event Hubs connection string"},
		"credentials in clear": {map[string]string{"KAFKA_BROKERS": "ns.servicebus.windows.net:9093", "KAFKA_AUTH": "oauth", "KAFKA_TLS": "false"}, "KAFKA_TLS=false"},
		"unknown auth":         {map[string]string{"KAFKA_BROKERS": "127.0.0.1:9092", "KAFKA_AUTH": "kerberos"}, "KAFKA_AUTH"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := fromEnv(t, tc.env)
			if !errors.Is(err, envconfig.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an invalid-config error mentioning %q", err, tc.want)
			}
		})
	}
}
