package rediscache

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// EntraScope is the token scope of Azure Managed Redis.
const EntraScope = "https://redis.azure.com/.default"

// AzurePort is Azure Managed Redis' TLS port.
const AzurePort = "10000"

// Entra ID token handling: a token is handed to new connections until
// tokenMargin before it expires, and connections live EntraConnLifetime,
// less than that margin, so none outlives the token it authenticated with.
const (
	tokenMargin       = 5 * time.Minute
	EntraConnLifetime = 4 * time.Minute
)

// Config is the Redis part of a workload's configuration.
type Config struct {
	Addrs    []string
	Cluster  bool
	Username string
	Password string `json:"-"`
	TLS      bool
	Entra    bool
	DB       int
	// Timeout bounds dialing, reads and writes.
	Timeout  time.Duration
	PoolSize int
	// MaxRetries is go-redis' retry count per command (-1: none).
	MaxRetries int
}

// Defaults of Config, the one place they are written.
const (
	DefaultTimeout    = 500 * time.Millisecond
	DefaultMaxRetries = 1
)

// Azure reports whether addrs name Azure Managed Redis (its TLS port or an
// Azure host name), where TLS and Entra ID are the defaults. Entries that
// are not host:port are left to Problems.
func Azure(addrs []string) bool {
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		if port == AzurePort || strings.HasSuffix(host, ".redis.azure.net") || strings.HasSuffix(host, ".redis.cache.windows.net") {
			return true
		}
	}
	return false
}

// Problems lists what makes c unusable, one message each. The messages
// name the settings by their environment variables (deploy), which is
// where an operator sets them.
func (c Config) Problems() []string {
	var out []string
	if len(c.Addrs) == 0 {
		out = append(out, deploy.EnvRedisAddr+" is required (host:port, comma-separated for a cluster's seeds)")
	}
	for _, a := range c.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			out = append(out, fmt.Sprintf("%s entry %q is not host:port", deploy.EnvRedisAddr, a))
		}
	}
	if c.Entra && c.Password != "" {
		out = append(out, fmt.Sprintf("set only one of %s=true and %s", deploy.EnvRedisEntra, deploy.EnvRedisPassword))
	}
	if c.Entra && !c.TLS {
		out = append(out, fmt.Sprintf("%s=true needs %s=true: tokens are never sent in the clear", deploy.EnvRedisEntra, deploy.EnvRedisTLS))
	}
	if c.Cluster && c.DB != 0 {
		out = append(out, deploy.EnvRedisDB+" must be 0 on a cluster")
	}
	return out
}

// Options returns go-redis' options for c; creds supplies Entra ID
// credentials when c.Entra is set (nil: the default Azure credential).
func (c Config) Options(creds *EntraCredentials) (*redis.UniversalOptions, error) {
	o := &redis.UniversalOptions{
		Addrs:         c.Addrs,
		IsClusterMode: c.Cluster,
		DB:            c.DB,
		Username:      c.Username,
		Password:      c.Password,
		DialTimeout:   c.Timeout,
		ReadTimeout:   c.Timeout,
		WriteTimeout:  c.Timeout,
		// Callers' deadlines win over the timeouts above.
		ContextTimeoutEnabled: true,
		PoolSize:              c.PoolSize,
		PoolTimeout:           c.Timeout + time.Second,
		MaxRetries:            c.MaxRetries,
		MinRetryBackoff:       8 * time.Millisecond,
		MaxRetryBackoff:       100 * time.Millisecond,
		// Managed and older servers do not all know CLIENT SETINFO.
		DisableIdentity: true,
	}
	if c.TLS {
		host, _, err := net.SplitHostPort(c.Addrs[0])
		if err != nil {
			return nil, fmt.Errorf("redis address %q: %w", c.Addrs[0], err)
		}
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	}
	if c.Entra {
		if creds == nil {
			cred, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, fmt.Errorf("azure credential for redis: %w", err)
			}
			creds = &EntraCredentials{Source: cred, Username: c.Username}
		}
		o.Username, o.Password = "", ""
		o.CredentialsProviderContext = creds.Credentials
		// Every connection authenticates with the token current when it
		// opens, which has at least five minutes left (see
		// EntraCredentials); retiring connections sooner than that keeps
		// each one inside its token's life.
		o.ConnMaxLifetime = EntraConnLifetime
	}
	return o, nil
}

// Open connects a client (a cluster client when c.Cluster) and pings it.
func (c Config) Open(ctx context.Context) (redis.UniversalClient, error) {
	o, err := c.Options(nil)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewUniversalClient(o)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second+c.Timeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("connect to redis %s: %w", strings.Join(c.Addrs, ","), err)
	}
	return rdb, nil
}

// TokenSource is what EntraCredentials needs of an Azure credential.
type TokenSource interface {
	GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error)
}

// EntraCredentials turns Entra ID tokens into Redis credentials: the token
// is the password and the identity's object id the user name. A token is
// reused until five minutes before it expires.
type EntraCredentials struct {
	Source TokenSource
	// Username overrides the object id read from the token.
	Username string

	mu      sync.Mutex
	token   azcore.AccessToken
	oid     string
	refresh time.Time
}

// Credentials implements go-redis' CredentialsProviderContext.
func (e *EntraCredentials) Credentials(ctx context.Context) (string, string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token.Token == "" || time.Now().After(e.refresh) {
		tok, err := e.Source.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{EntraScope}})
		if err != nil {
			return "", "", fmt.Errorf("entra id token for redis: %w", err)
		}
		oid := e.Username
		if oid == "" {
			if oid, err = tokenObjectID(tok.Token); err != nil {
				return "", "", err
			}
		}
		e.token, e.oid = tok, oid
		e.refresh = tok.ExpiresOn.Add(-tokenMargin)
	}
	return e.oid, e.token.Token, nil
}

// tokenObjectID reads the oid claim of a JWT without verifying it: the
// token comes from Entra ID and Redis verifies it.
func tokenObjectID(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("entra id token for redis: not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("entra id token for redis: payload: %w", err)
	}
	var claims struct {
		OID string `json:"oid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("entra id token for redis: claims: %w", err)
	}
	if claims.OID == "" {
		return "", errors.New("entra id token for redis: no oid claim; set REDIS_USERNAME to the identity's object id")
	}
	return claims.OID, nil
}
