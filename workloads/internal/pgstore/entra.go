package pgstore

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// EntraScope is the token scope of Azure Database for PostgreSQL.
const EntraScope = "https://ossrdbms-aad.database.windows.net/.default"

// TokenSource hands out a currently valid access token.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// credentialTokens adapts an azcore credential. azidentity credentials cache
// the token and renew it ahead of its expiry, so asking per connection is
// cheap and never hands out an expired token.
type credentialTokens struct {
	cred azcore.TokenCredential
}

// EntraTokens returns a TokenSource over an Azure credential.
func EntraTokens(cred azcore.TokenCredential) TokenSource {
	return credentialTokens{cred: cred}
}

// DefaultEntraTokens uses azidentity's default credential chain: workload
// identity on AKS, managed identity on a VM, the Azure CLI on a laptop.
func DefaultEntraTokens() (TokenSource, error) {
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("azure credential for postgres: %w", err)
	}
	return EntraTokens(cred), nil
}

func (c credentialTokens) Token(ctx context.Context) (string, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{EntraScope}})
	if err != nil {
		return "", fmt.Errorf("get token for %s: %w", EntraScope, err)
	}
	return tok.Token, nil
}
