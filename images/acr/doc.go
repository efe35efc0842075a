// Package acr authenticates go-containerregistry to Azure Container Registry
// with Entra ID, without a Docker config or the Docker credential helper.
//
// The Authenticator gets an Entra ID access token from an azcore
// TokenCredential (azidentity's DefaultAzureCredential: environment, workload
// identity, managed identity, Azure CLI), exchanges it for an ACR refresh
// token at https://<registry>/oauth2/exchange (grant_type=access_token), and
// hands go-containerregistry that refresh token as the password of the user
// 00000000-0000-0000-0000-000000000000, which is how ACR accepts refresh
// tokens. The refresh token is cached until shortly before it expires.
package acr
