package acr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeCredential hands out numbered Entra ID tokens and records scopes.
type fakeCredential struct {
	calls  atomic.Int32
	scopes []string
	err    error
}

func (f *fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := f.calls.Add(1)
	f.scopes = append(f.scopes, o.Scopes...)
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: fmt.Sprintf("entra-%d", n), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func jwt(exp time.Time) string {
	payload, _ := json.Marshal(map[string]any{"exp": exp.Unix()})
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(payload) + ".sig"
}

// exchangeServer is a TLS server answering /oauth2/exchange like ACR.
func exchangeServer(t *testing.T, registry string, refresh func(access string) string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/oauth2/exchange" || r.Method != http.MethodPost {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			http.Error(w, "content type "+ct, http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("grant_type") != "access_token" || r.PostForm.Get("service") != registry {
			http.Error(w, fmt.Sprintf("bad form %v", r.PostForm), http.StatusBadRequest)
			return
		}
		access := r.PostForm.Get("access_token")
		if !strings.HasPrefix(access, "entra-") {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"invalid token"}]}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"refresh_token": refresh(access) + "|tenant=" + r.PostForm.Get("tenant")})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestExchangeAndCache(t *testing.T) {
	const registry = "sluiceacr.azurecr.io"
	exp := time.Now().Add(3 * time.Hour)
	srv, hits := exchangeServer(t, registry, func(access string) string { return jwt(exp) + "#" + access })
	cred := &fakeCredential{}
	now := time.Now()
	a := &Authenticator{Registry: registry, Credential: cred, TenantID: "tenant-1", Client: srv.Client(), Endpoint: srv.URL,
		Now: func() time.Time { return now }}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Username != NullUser {
		t.Errorf("username %q, want %q", cfg.Username, NullUser)
	}
	if !strings.HasSuffix(cfg.Password, "#entra-1|tenant=tenant-1") {
		t.Errorf("password %q is not the exchanged refresh token for the first Entra ID token", cfg.Password)
	}
	if len(cred.scopes) != 1 || cred.scopes[0] != DefaultScope {
		t.Errorf("scopes %q, want %q", cred.scopes, DefaultScope)
	}
	// Cached until shortly before the refresh token's exp claim.
	now = now.Add(2 * time.Hour)
	again, err := a.AuthorizationContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if again.Password != cfg.Password || hits.Load() != 1 || cred.calls.Load() != 1 {
		t.Errorf("second call exchanged again: hits=%d tokens=%d", hits.Load(), cred.calls.Load())
	}
	now = exp.Add(-time.Minute)
	renewed, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 2 || !strings.HasSuffix(renewed.Password, "#entra-2|tenant=tenant-1") {
		t.Errorf("near expiry the token was not renewed: hits=%d password=%q", hits.Load(), renewed.Password)
	}
}

func TestExchangeErrors(t *testing.T) {
	const registry = "sluiceacr.azurecr.io"
	srv, _ := exchangeServer(t, registry, func(string) string { return "opaque" })

	// The registry refuses the Entra ID token.
	bad := &Authenticator{Registry: registry, Credential: credentialFunc(func() (string, error) { return "forged", nil }),
		Client: srv.Client(), Endpoint: srv.URL}
	if _, err := bad.Authorization(); err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "invalid token") {
		t.Errorf("refused exchange: err = %v", err)
	}
	// No Entra ID token at all.
	broken := &Authenticator{Registry: registry, Credential: &fakeCredential{err: fmt.Errorf("no login")}, Client: srv.Client(), Endpoint: srv.URL}
	if _, err := broken.Authorization(); err == nil || !strings.Contains(err.Error(), "no login") {
		t.Errorf("credential failure: err = %v", err)
	}
	// An untrusted server certificate is an error, never skipped.
	untrusted := &Authenticator{Registry: registry, Credential: &fakeCredential{}, Endpoint: srv.URL}
	if _, err := untrusted.Authorization(); err == nil {
		t.Error("exchange with an untrusted certificate succeeded")
	}
	if _, err := (&Authenticator{Registry: registry}).Authorization(); err == nil {
		t.Error("no credential accepted")
	}
	// A response without a refresh token.
	empty := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer empty.Close()
	none := &Authenticator{Registry: registry, Credential: &fakeCredential{}, Client: empty.Client(), Endpoint: empty.URL}
	if _, err := none.Authorization(); err == nil || !strings.Contains(err.Error(), "no refresh_token") {
		t.Errorf("empty response: err = %v", err)
	}
}

func TestExpiry(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	if got := expiry(jwt(now.Add(3*time.Hour)), now); !got.Equal(now.Add(3*time.Hour - 5*time.Minute)) {
		t.Errorf("expiry of a 3h token = %s", got.Sub(now))
	}
	if got := expiry("not-a-jwt", now); !got.Equal(now.Add(fallbackLifetime)) {
		t.Errorf("expiry of an opaque token = %s", got.Sub(now))
	}
	if got := expiry(jwt(now.Add(-time.Hour)), now); got.After(now) {
		t.Errorf("an expired token is reused until %s", got)
	}
}

type credentialFunc func() (string, error)

func (f credentialFunc) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := f()
	return azcore.AccessToken{Token: tok, ExpiresOn: time.Now().Add(time.Hour)}, err
}
