#!/usr/bin/env bash
# sluice-runner: the self-hosted GitHub Actions runner of a stack's VNet.
# Written to /usr/local/bin/sluice-runner by the scale set's cloud-init
# (infra/internal/components/runner); settings in /etc/sluice-runner/runner.env.
#
#   sluice-runner install   (root, once at boot) downloads the pinned runner
#                           release, checks its SHA-256, unpacks it for the runner user
#   sluice-runner           (the runner user, systemd) registers an ephemeral runner,
#                           runs one job, and registers again: every job starts on a
#                           clean registration and a removed VM leaves no runner behind
#
# Registration uses a GitHub App (repository permission Administration: write) held
# in a Key Vault secret as JSON {"appId", "installationId", "privateKey"}, which the
# VM reads with its managed identity: IMDS token -> the secret -> an app JWT (RS256,
# openssl) -> an installation token -> a registration token. Nothing secret is written
# to disk except the key, briefly, in a 0600 file that is removed at once.
#
# Settings (environment): RUNNER_REPOSITORY (owner/repo), RUNNER_LABELS,
# KEY_SECRET_URI (https://<vault>/secrets/<name>), RUNNER_VERSION, RUNNER_SHA256,
# RUNNER_DIR (default /opt/actions-runner).
# Endpoints, overridable for tests: IMDS_URL, GITHUB_API_URL, GITHUB_URL,
# RUNNER_DOWNLOAD_URL. RUNNER_ONCE=1 registers and runs once, then exits.
set -euo pipefail

IMDS_URL="${IMDS_URL:-http://169.254.169.254}"
GITHUB_API_URL="${GITHUB_API_URL:-https://api.github.com}"
GITHUB_URL="${GITHUB_URL:-https://github.com}"
RUNNER_DIR="${RUNNER_DIR:-/opt/actions-runner}"

log() { echo "sluice-runner: $*" >&2; }
die() { log "$*"; exit 1; }

need() {
	local v
	for v in "$@"; do
		[[ -n "${!v:-}" ]] || die "$v is not set (see /etc/sluice-runner/runner.env)"
	done
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# json_field FIELD: the string FIELD of the JSON object on stdin, or fail.
json_field() {
	local v
	v="$(jq -er --arg f "$1" '.[$f] | strings')" || die "the response has no $1"
	printf '%s' "$v"
}

install_runner() {
	need RUNNER_VERSION RUNNER_SHA256
	local url="${RUNNER_DOWNLOAD_URL:-https://github.com/actions/runner/releases/download/v$RUNNER_VERSION/actions-runner-linux-x64-$RUNNER_VERSION.tar.gz}"
	local tmp
	tmp="$(mktemp)"
	log "downloading runner $RUNNER_VERSION"
	curl -fsSL --retry 5 -o "$tmp" "$url" || die "cannot download $url"
	local got
	got="$(sha256sum "$tmp" | cut -d' ' -f1)"
	if [[ "$got" != "$RUNNER_SHA256" ]]; then
		rm -f "$tmp"
		die "runner $RUNNER_VERSION has SHA-256 $got, pinned $RUNNER_SHA256: refusing it"
	fi
	mkdir -p "$RUNNER_DIR"
	tar -xzf "$tmp" -C "$RUNNER_DIR"
	rm -f "$tmp"
	if [[ -x "$RUNNER_DIR/bin/installdependencies.sh" && "$(id -u)" == 0 ]]; then
		"$RUNNER_DIR/bin/installdependencies.sh" >/dev/null
	fi
	if id runner >/dev/null 2>&1; then
		chown -R runner: "$RUNNER_DIR"
	fi
	log "runner $RUNNER_VERSION installed in $RUNNER_DIR (SHA-256 checked)"
}

# app_secret FILE: writes the GitHub App's JSON from Key Vault to FILE (0600).
app_secret() {
	local vault_token
	vault_token="$(curl -fsS -H 'Metadata: true' \
		"$IMDS_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net" |
		json_field access_token)" || die "no Key Vault token from the managed identity"
	(
		umask 077
		curl -fsS -H "Authorization: Bearer $vault_token" "$KEY_SECRET_URI?api-version=7.4" |
			json_field value >"$1"
	) || die "cannot read the GitHub App from $KEY_SECRET_URI"
}

# registration_token: a one-hour token that registers one runner.
registration_token() {
	local app key app_id installation_id now header payload unsigned signature jwt installation
	app="$(mktemp)"
	key="$(mktemp)"
	app_secret "$app"
	app_id="$(json_field appId <"$app")" || { rm -f "$app" "$key"; die "the GitHub App secret has no appId"; }
	installation_id="$(json_field installationId <"$app")" || { rm -f "$app" "$key"; die "the GitHub App secret has no installationId"; }
	json_field privateKey <"$app" >"$key" || { rm -f "$app" "$key"; die "the GitHub App secret has no privateKey"; }
	rm -f "$app"
	now="$(date +%s)"
	header="$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)"
	payload="$(printf '{"iat":%d,"exp":%d,"iss":"%s"}' "$((now - 60))" "$((now + 540))" "$app_id" | b64url)"
	unsigned="$header.$payload"
	signature="$(printf '%s' "$unsigned" | openssl dgst -sha256 -sign "$key" -binary | b64url)" || {
		rm -f "$key"
		die "cannot sign the app token: is the secret's privateKey a PEM private key?"
	}
	rm -f "$key"
	jwt="$unsigned.$signature"
	installation="$(curl -fsS -X POST -H "Authorization: Bearer $jwt" -H 'Accept: application/vnd.github+json' \
		"$GITHUB_API_URL/app/installations/$installation_id/access_tokens" |
		json_field token)" || die "GitHub refused the app token (app $app_id, installation $installation_id)"
	curl -fsS -X POST -H "Authorization: Bearer $installation" -H 'Accept: application/vnd.github+json' \
		"$GITHUB_API_URL/repos/$RUNNER_REPOSITORY/actions/runners/registration-token" |
		json_field token || die "no registration token for $RUNNER_REPOSITORY (the app needs Administration: write)"
}

# run_once checks every step itself: it runs where errexit does not apply.
run_once() {
	local token
	token="$(registration_token)" || return 1
	"$RUNNER_DIR/config.sh" --unattended --ephemeral --replace \
		--url "$GITHUB_URL/$RUNNER_REPOSITORY" --token "$token" \
		--name "$(hostname)-$(date +%s)" --labels "$RUNNER_LABELS" --work _work || return 1
	"$RUNNER_DIR/run.sh"
}

case "${1:-run}" in
install)
	install_runner
	;;
run)
	need RUNNER_REPOSITORY RUNNER_LABELS KEY_SECRET_URI
	[[ -x "$RUNNER_DIR/config.sh" ]] || die "no runner in $RUNNER_DIR: run 'sluice-runner install' as root first"
	if [[ "${RUNNER_ONCE:-}" == 1 ]]; then
		run_once
		exit
	fi
	while :; do
		if (run_once); then
			log "job done; registering again"
		else
			log "registration or job failed; retrying in 30 s"
			sleep 30
		fi
	done
	;;
*)
	die "usage: sluice-runner [install|run]"
	;;
esac
