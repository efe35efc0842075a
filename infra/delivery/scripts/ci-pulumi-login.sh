#!/usr/bin/env bash
# Prepares a GitHub Actions job to reach the Pulumi backend without a stored
# secret. Reads PULUMI_BACKEND_URL (repository variable):
#
#   azblob://state?storage_account=<account>  self-managed backend (see
#       infra/bootstrap): the CLI reaches the blob container and the Key Vault key
#       with the Azure CLI login made by azure/login (OIDC).
#   empty or https://api.pulumi.com          Pulumi Cloud: exchanges the job's GitHub
#       OIDC token for a short-lived Pulumi access token of organisation
#       PULUMI_CLOUD_ORG (the organisation must trust this repository's tokens).
#
# Writes the variables later steps need to $GITHUB_ENV.
set -euo pipefail

env_file="${GITHUB_ENV:?not running in GitHub Actions}"
backend="${PULUMI_BACKEND_URL:-}"

case "$backend" in
azblob://*)
	{
		echo "PULUMI_BACKEND_URL=$backend"
		# Use the Azure CLI login for the Key Vault secrets provider and the blob backend.
		echo "AZURE_KEYVAULT_AUTH_VIA_CLI=true"
		echo "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true"
	} >>"$env_file"
	echo "ci-pulumi-login: self-managed backend $backend"
	;;
"" | https://api.pulumi.com | https://api.pulumi.com/)
	org="${PULUMI_CLOUD_ORG:?set the repository variable PULUMI_CLOUD_ORG (or PULUMI_BACKEND_URL for a self-managed backend)}"
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
	echo "ci-pulumi-login: Pulumi Cloud organisation $org"
	;;
*)
	echo "ci-pulumi-login: unsupported PULUMI_BACKEND_URL '$backend' (want azblob://… or Pulumi Cloud)" >&2
	exit 1
	;;
esac
