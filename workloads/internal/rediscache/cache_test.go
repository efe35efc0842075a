package rediscache

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract"
)

func TestKeysUseHashTags(t *testing.T) {
	cases := map[string]string{
		EventKey("0193a1b2-7c3d-7e4f-8a5b-000000000001"): "event:{0193a1b2-7c3d-7e4f-8a5b-000000000001}",
		SiteCriticalKey("site-001"):                      "site:{site-001}:critical",
		SiteFilledKey("site-001"):                        "site:{site-001}:critical:filled",
		DeviceLatestKey("dev-00001"):                     "device:{dev-00001}:latest",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
	// A site's keys must share a cluster slot.
	if a, b := slot(SiteCriticalKey("site-001")), slot(SiteFilledKey("site-001")); a != b {
		t.Fatalf("site keys in slots %d and %d", a, b)
	}
}

// slot computes a key's cluster slot (CRC16/XMODEM of the hash tag).
func slot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for _, c := range []byte(key) {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

func sample() contract.Stored {
	return contract.Stored{Event: contract.Event{V: 1, ID: "0193a1b2-7c3d-7e4f-8a5b-000000000001", Site: "site-001", Device: "dev-1",
		Kind: "smoke", Value: 1, Unit: "bool", Severity: contract.SeverityCritical,
		At: time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, time.FixedZone("X", 3600)), Attrs: map[string]string{"b": "2", "a": "1"}},
		IngestedAt: time.Date(2026, 1, 2, 2, 4, 6, 0, time.UTC)}
}

func TestEncodeIsDeterministicAtMillisecondPrecision(t *testing.T) {
	st := sample()
	b1, err := Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"id":"0193a1b2-7c3d-7e4f-8a5b-000000000001","site":"site-001","device":"dev-1","kind":"smoke","value":1,"unit":"bool","severity":"critical","at":"2026-01-02T02:04:05.123Z","attrs":{"a":"1","b":"2"}}`
	if string(b1) != want {
		t.Fatalf("got  %s\nwant %s", b1, want)
	}
	// The same event as Cassandra returns it (milliseconds, UTC) encodes
	// to the same bytes.
	st2 := st
	st2.At = st.At.UTC().Truncate(time.Millisecond)
	b2, _ := Encode(st2)
	if string(b2) != string(b1) {
		t.Fatal("encoding depends on the time's precision or zone")
	}
	back, err := Decode(b1)
	if err != nil {
		t.Fatal(err)
	}
	// A later ingestion of the same event does not change its document.
	st3 := st2
	st3.IngestedAt = st.IngestedAt.Add(time.Hour)
	if b3, _ := Encode(st3); string(b3) != string(b1) {
		t.Fatal("the document depends on the ingestion time")
	}
	if !back.At.Equal(st2.At) || back.Site != st.Site || back.Attrs["a"] != "1" {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestJitterStaysInRange(t *testing.T) {
	for i := 0; i < 1000; i++ {
		d := Jitter(time.Hour, 0.1)
		if d < time.Hour || d > time.Hour+6*time.Minute {
			t.Fatalf("jitter %s outside [1h, 1h6m]", d)
		}
	}
	if Jitter(time.Hour, 0) != time.Hour {
		t.Fatal("no jitter requested, some applied")
	}
}

func TestAzureAddrs(t *testing.T) {
	for _, c := range []struct {
		addrs []string
		want  bool
	}{
		{[]string{"127.0.0.1:16379"}, false},
		{[]string{"sluice-dev.westeurope.redis.azure.net:10000"}, true},
		{[]string{"old.redis.cache.windows.net:6380"}, true},
		{[]string{"10.0.0.4:10000"}, true},
		{[]string{"not an address", "127.0.0.1:6379"}, false},
		{nil, false},
	} {
		if got := Azure(c.addrs); got != c.want {
			t.Errorf("Azure(%q) = %v, want %v", c.addrs, got, c.want)
		}
	}
}

func TestProblems(t *testing.T) {
	ok := Config{Addrs: []string{"127.0.0.1:16379"}}
	if p := ok.Problems(); len(p) != 0 {
		t.Fatalf("usable config has problems: %q", p)
	}
	for _, c := range []struct {
		c    Config
		want string
	}{
		{Config{}, "REDIS_ADDR is required"},
		{Config{Addrs: []string{"nohost"}}, `REDIS_ADDR entry "nohost" is not host:port`},
		{Config{Addrs: []string{"x.redis.azure.net:10000"}, Entra: true, TLS: true, Password: "p"}, "set only one of REDIS_ENTRA=true and REDIS_PASSWORD"},
		{Config{Addrs: []string{"x.redis.azure.net:10000"}, Entra: true}, "REDIS_ENTRA=true needs REDIS_TLS=true"},
		{Config{Addrs: []string{"a:1", "b:2"}, Cluster: true, DB: 2}, "REDIS_DB must be 0 on a cluster"},
	} {
		p := c.c.Problems()
		if len(p) != 1 || !strings.Contains(p[0], c.want) {
			t.Errorf("%+v: problems %q, want one mentioning %q", c.c, p, c.want)
		}
	}
}

func TestAzureOptions(t *testing.T) {
	c := Config{Addrs: []string{"sluice-dev.westeurope.redis.azure.net:10000"}, Cluster: true, TLS: true, Entra: true,
		Timeout: DefaultTimeout, MaxRetries: DefaultMaxRetries}
	o, err := c.Options(&EntraCredentials{Source: fakeTokens(nil), Username: "oid"})
	if err != nil {
		t.Fatal(err)
	}
	if o.TLSConfig == nil || o.TLSConfig.MinVersion < tls.VersionTLS12 || o.TLSConfig.ServerName != "sluice-dev.westeurope.redis.azure.net" {
		t.Fatalf("tls config %+v", o.TLSConfig)
	}
	if o.CredentialsProviderContext == nil || o.Password != "" || !o.IsClusterMode || o.ConnMaxLifetime <= 0 || o.ConnMaxLifetime >= tokenMargin {
		t.Fatalf("entra options: provider set %v, password %q, cluster %v, lifetime %s", o.CredentialsProviderContext != nil, o.Password, o.IsClusterMode, o.ConnMaxLifetime)
	}
	if _, ok := redis.NewUniversalClient(o).(*redis.ClusterClient); !ok {
		t.Fatal("cluster mode did not give a cluster client")
	}
}

type tokenFunc func(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error)

func (f tokenFunc) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return f(ctx, o)
}

func fakeTokens(calls *atomic.Int32) TokenSource {
	return tokenFunc(func(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
		if len(o.Scopes) != 1 || o.Scopes[0] != EntraScope {
			return azcore.AccessToken{}, errors.New("wrong scope")
		}
		if calls != nil {
			calls.Add(1)
		}
		payload := base64.RawURLEncoding.EncodeToString([]byte(`{"oid":"11111111-2222-3333-4444-555555555555","aud":"https://redis.azure.com"}`))
		return azcore.AccessToken{Token: "eyJhbGciOiJub25lIn0." + payload + ".sig", ExpiresOn: time.Now().Add(time.Hour)}, nil
	})
}

func TestEntraCredentialsUseObjectIDAndCacheTokens(t *testing.T) {
	var calls atomic.Int32
	e := &EntraCredentials{Source: fakeTokens(&calls)}
	for i := 0; i < 5; i++ {
		user, pass, err := e.Credentials(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if user != "11111111-2222-3333-4444-555555555555" || !strings.HasPrefix(pass, "eyJ") {
			t.Fatalf("credentials %q %q", user, pass)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("fetched %d tokens for 5 connections, want 1", calls.Load())
	}
	// Five minutes before expiry a fresh token is fetched.
	e.refresh = time.Now().Add(-time.Second)
	if _, _, err := e.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatal("an expiring token was not refreshed")
	}
	bad := &EntraCredentials{Source: tokenFunc(func(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
		return azcore.AccessToken{Token: "opaque", ExpiresOn: time.Now().Add(time.Hour)}, nil
	})}
	if _, _, err := bad.Credentials(context.Background()); err == nil {
		t.Fatal("a token without an object id was accepted without REDIS_USERNAME")
	}
}

func TestWriteFailsWhenRedisIsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	o, err := Config{Addrs: []string{addr}, Timeout: 200 * time.Millisecond, MaxRetries: 1}.Options(nil)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewUniversalClient(o)
	defer rdb.Close()
	c := New(rdb, Options{})
	// A batch that is not written must fail, or the change feed would
	// commit past it.
	if err := c.Write(context.Background(), []contract.Stored{sample()}); err == nil {
		t.Fatal("Write reported success with Redis unreachable")
	}
	if _, err := c.Event(context.Background(), sample().ID); err == nil || errors.Is(err, ErrMiss) {
		t.Fatalf("Event with Redis unreachable: %v", err)
	}
	if _, err := c.Events(context.Background(), []string{sample().ID}); err == nil {
		t.Fatal("Events reported success with Redis unreachable")
	}
	if _, _, err := c.SiteCritical(context.Background(), "s", 5); err == nil {
		t.Fatal("SiteCritical reported success with Redis unreachable")
	}
}
