#!/usr/bin/env bash
# Prepares a GitHub Actions job to reach the Pulumi backend of one stack without
# a stored secret. STACK names the stack; its trust level (trustlevel: review-* →
# review, dev and dev-* → dev, staging, prod) picks the state.
#
#   PULUMI_STATE_ACCOUNT set (self-managed backend, see infra/bootstrap): the
#       stack's own container and key, azblob://state-<level>?storage_account=…
#       and azurekeyvault://<PULUMI_STATE_VAULT>.vault.azure.net/keys/state-<level>;
#       the CLI reaches them with the Azure CLI login made by azure/login (OIDC),
#       whose identity has roles on that container and key only.
#   otherwise Pulumi Cloud: exchanges the job's GitHub OIDC token for a short-lived
#       access token of organisation PULUMI_CLOUD_ORG (the organisation must trust
#       this repository's tokens; restrict each subject to its stacks with teams).
#
# Writes the variables later steps need to $GITHUB_ENV.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
env_file="${GITHUB_ENV:?not running in GitHub Actions}"
stack="${STACK:?set STACK to the stack this job works on}"
level="$(go run "$root/infra/delivery/cmd/trustlevel" "$stack")" ||
	{ echo "ci-pulumi-login: stack '$stack' has no trust level; refusing" >&2; exit 1; }

if [[ -n "${PULUMI_STATE_ACCOUNT:-}" ]]; then
	vault="${PULUMI_STATE_VAULT:?set the repository variable PULUMI_STATE_VAULT (bootstrap output keyVault)}"
	backend="azblob://state-$level?storage_account=$PULUMI_STATE_ACCOUNT"
	{
		echo "PULUMI_BACKEND_URL=$backend"
		echo "PULUMI_SECRETS_PROVIDER=azurekeyvault://$vault.vault.azure.net/keys/state-$level"
		# Use the Azure CLI login for the Key Vault secrets provider and the blob backend.
		echo "AZURE_KEYVAULT_AUTH_VIA_CLI=true"
		echo "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true"
	} >>"$env_file"
	echo "ci-pulumi-login: $stack ($level) in $backend"
	exit 0
fi

org="${PULUMI_CLOUD_ORG:?set the repository variable PULUMI_STATE_ACCOUNT (self-managed backend) or PULUMI_CLOUD_ORG}"
: "${ACTIONS_ID_TOKEN_REQUEST_URL:?the job needs 'permissions: id-token: write'}"
: "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:?the job needs 'permissions: id-token: write'}"
audience="urn:pulumi:org:$org"
id_token="$(curl -fsS -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
	"$ACTIONS_ID_TOKEN_REQUEST_URL&audience=$audience" | jq -r '.value')"
[[ -n "$id_token" && "$id_token" != "null" ]] || { echo "ci-pulumi-login: no GitHub id token" >&2; exit 1; }
request="$(jq -n --arg aud "$audience" --arg tok "$id_token" '{
	audience: $aud,
	grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
	subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
	requested_token_type: "urn:pulumi:token-type:access_token:organization",
	subject_token: $tok
}')"
token="$(curl -fsS -X POST -H "Content-Type: application/json" --data "$request" \
	https://api.pulumi.com/api/oauth/token | jq -r '.access_token')"
[[ -n "$token" && "$token" != "null" ]] || { echo "ci-pulumi-login: token exchange returned no access token" >&2; exit 1; }
echo "::add-mask::$token"
echo "PULUMI_ACCESS_TOKEN=$token" >>"$env_file"
echo "ci-pulumi-login: Pulumi Cloud organisation $org ($stack, $level)"
