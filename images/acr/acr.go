package acr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-containerregistry/pkg/authn"
)

// NullUser is the user name ACR expects with a refresh token as password.
const NullUser = "00000000-0000-0000-0000-000000000000"

// DefaultScope is the Entra ID scope of the access token exchanged: Azure
// Resource Manager's, which every registry accepts unless its ARM audience
// tokens are disabled (then use ACRScope).
const DefaultScope = "https://management.azure.com/.default"

// ACRScope is the registry audience's scope.
const ACRScope = "https://containerregistry.azure.net/.default"

// fallbackLifetime is how long a refresh token is reused when its expiry
// cannot be read; ACR's refresh tokens live about three hours.
const fallbackLifetime = 30 * time.Minute

// Authenticator is an authn.Authenticator (and ContextAuthenticator) for
// one registry.
type Authenticator struct {
	// Registry is the login server, e.g. "myacr.azurecr.io".
	Registry string
	// Credential supplies Entra ID access tokens.
	Credential azcore.TokenCredential
	// TenantID, when set, is passed to the exchange.
	TenantID string
	// Scope of the access token; DefaultScope when empty.
	Scope string
	// Client sends the exchange; http.DefaultClient when nil.
	Client *http.Client
	// Endpoint overrides "https://<Registry>" (tests).
	Endpoint string
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

var (
	_ authn.Authenticator        = (*Authenticator)(nil)
	_ authn.ContextAuthenticator = (*Authenticator)(nil)
)

// Authorization implements authn.Authenticator.
func (a *Authenticator) Authorization() (*authn.AuthConfig, error) {
	return a.AuthorizationContext(context.Background())
}

// AuthorizationContext implements authn.ContextAuthenticator.
func (a *Authenticator) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	token, err := a.RefreshToken(ctx)
	if err != nil {
		return nil, err
	}
	return &authn.AuthConfig{Username: NullUser, Password: token}, nil
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// RefreshToken returns a cached ACR refresh token, or exchanges a fresh
// Entra ID access token for one.
func (a *Authenticator) RefreshToken(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.now().Before(a.expires) {
		return a.token, nil
	}
	if a.Credential == nil {
		return "", errors.New("acr: no Azure credential")
	}
	if a.Registry == "" {
		return "", errors.New("acr: no registry")
	}
	scope := a.Scope
	if scope == "" {
		scope = DefaultScope
	}
	access, err := a.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}, TenantID: a.TenantID})
	if err != nil {
		return "", fmt.Errorf("acr: entra id token for %s: %w", a.Registry, err)
	}
	refresh, err := a.exchange(ctx, access.Token)
	if err != nil {
		return "", err
	}
	a.token = refresh
	a.expires = expiry(refresh, a.now())
	return refresh, nil
}

// exchange trades an Entra ID access token for an ACR refresh token.
func (a *Authenticator) exchange(ctx context.Context, accessToken string) (string, error) {
	endpoint := a.Endpoint
	if endpoint == "" {
		endpoint = "https://" + a.Registry
	}
	form := url.Values{
		"grant_type":   {"access_token"},
		"service":      {a.Registry},
		"access_token": {accessToken},
	}
	if a.TenantID != "" {
		form.Set("tenant", a.TenantID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/oauth2/exchange", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("acr: exchange request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	client := a.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("acr: token exchange with %s: %w", a.Registry, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("acr: read token exchange response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return "", fmt.Errorf("acr: token exchange with %s: %s: %s", a.Registry, resp.Status, msg)
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("acr: decode token exchange response: %w", err)
	}
	if out.RefreshToken == "" {
		return "", fmt.Errorf("acr: token exchange with %s returned no refresh_token", a.Registry)
	}
	return out.RefreshToken, nil
}

// expiry reads the exp claim of a JWT refresh token, minus a margin; a
// token that is not a readable JWT is reused for fallbackLifetime.
func expiry(token string, now time.Time) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) == 3 {
		if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var claims struct {
				Exp int64 `json:"exp"`
			}
			if json.Unmarshal(payload, &claims) == nil && claims.Exp > 0 {
				exp := time.Unix(claims.Exp, 0).Add(-5 * time.Minute)
				if exp.After(now) {
					return exp
				}
				return now
			}
		}
	}
	return now.Add(fallbackLifetime)
}
