#!/usr/bin/env bash
# Runs one Pulumi operation on one stack of the sluice project with the project's
# conventions. Called by `make preview|up|destroy|refresh STACK=<name>`.
#
# Usage: delivery.sh preview|up|destroy|refresh   (delivery.sh host: build the program
#        binary the operations run through and print its path)
# Environment:
#   STACK            stack name (required): dev, staging, prod, review-pr<N>, ...
#   ARGS             extra arguments for pulumi, split on spaces
#                    (e.g. ARGS="--refresh --expect-no-changes")
#   CREATE=1         create the stack first when it does not exist (preview/up),
#                    using PULUMI_SECRETS_PROVIDER when set
#   REMOVE=1         destroy: also remove the stack and its config afterwards
#   CONFIRM_DESTROY  destroy: must equal STACK to destroy staging or prod
#   PULUMI           pulumi executable (default: .sluice/bin/pulumi, else PATH)
#   CI               when true: --non-interactive, --yes and no colour
#   SLUICE_PROGRAMHOST  the program binary that hosts itself (default: ./infra built
#                    into .sluice/bin/sluice-infra)
# Checks before anything runs: the CLI, the program host, a Pulumi backend login,
# and Azure credentials; each failure names the fix.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
action="${1:-}"

die() {
	echo "delivery: $*" >&2
	exit 1
}

# program_host prints the program binary the operations run through: the
# program's own binary (./infra, built as sluice-infra), which serves the
# program compiled into it to the CLI (--client, infra/delivery/langhost), so
# no Go language host is needed and the CLI built from the pinned module
# (make pulumi-cli) is enough. SLUICE_PROGRAMHOST names one already built
# (scripts that run several operations build it once: `delivery.sh host`).
program_host() {
	local host="${SLUICE_PROGRAMHOST:-}" go_cmd="${GO:-go}"
	if [[ -n "$host" ]]; then
		[[ -x "$host" ]] || die "SLUICE_PROGRAMHOST=$host is not an executable"
		printf '%s\n' "$host"
		return
	fi
	command -v "$go_cmd" >/dev/null 2>&1 ||
		die "cannot build the program host: '$go_cmd' not found (install Go, see go.mod), or set SLUICE_PROGRAMHOST"
	host="$root/.sluice/bin/sluice-infra"
	echo "delivery: building the program (minutes on a cold build cache)" >&2
	(cd "$root" && "$go_cmd" build -o "$host" ./infra) >&2 ||
		die "cannot build the program host (go build ./infra failed)"
	printf '%s\n' "$host"
}

case "$action" in
host)
	program_host
	exit
	;;
preview | up | destroy | refresh) ;;
*) die "usage: delivery.sh preview|up|destroy|refresh (with STACK=<name>), or delivery.sh host" ;;
esac

stack="${STACK:-}"
if [[ -z "$stack" ]]; then
	die "STACK is required: make $action STACK=<name> (dev, staging, prod or review-pr<N>)"
fi
if [[ ! "$stack" =~ ^[A-Za-z0-9][A-Za-z0-9._/-]*$ ]]; then
	die "STACK=$stack is not a valid stack name"
fi
short="${stack##*/}"
if [[ "$action" == "destroy" && ("$short" == "staging" || "$short" == "prod") &&
	"${CONFIRM_DESTROY:-}" != "$stack" ]]; then
	die "refusing to destroy long-lived stack $stack: set CONFIRM_DESTROY=$stack to confirm"
fi

is_ci() {
	[[ "${CI:-}" == "true" || "${CI:-}" == "1" || "${GITHUB_ACTIONS:-}" == "true" ]]
}

# --- Pulumi CLI -----------------------------------------------------------
pulumi_bin="${PULUMI:-}"
if [[ -z "$pulumi_bin" ]]; then
	if [[ -x "$root/.sluice/bin/pulumi" ]]; then
		pulumi_bin="$root/.sluice/bin/pulumi"
	elif command -v pulumi >/dev/null 2>&1; then
		pulumi_bin="$(command -v pulumi)"
	else
		die "the pulumi CLI is not installed: run 'make pulumi-cli' (builds it from source into .sluice/bin, verified by
          infra/delivery/pulumi-cli/go.sum) or 'make pulumi-install' (official release;
          fails closed until its SHA-256s are pinned in infra/delivery/tools.sha256), then retry"
	fi
elif [[ ! -x "$pulumi_bin" ]] && ! command -v "$pulumi_bin" >/dev/null 2>&1; then
	die "PULUMI=$pulumi_bin is not an executable"
fi

# --- Pulumi backend -------------------------------------------------------
if [[ -z "${PULUMI_BACKEND_URL:-}" && -z "${PULUMI_ACCESS_TOKEN:-}" ]]; then
	creds="${PULUMI_HOME:-$HOME/.pulumi}/credentials.json"
	if [[ ! -f "$creds" ]] || ! grep -q '"current"[[:space:]]*:[[:space:]]*"[^"]' "$creds"; then
		die "not logged in to a Pulumi backend: set PULUMI_BACKEND_URL (e.g. azblob://state?storage_account=<account>)
          or run 'pulumi login' (see infra/DELIVERY.md, section State)"
	fi
fi

# --- Azure credentials ----------------------------------------------------
missing=()
need() {
	local v
	for v in "$@"; do
		[[ -n "${!v:-}" ]] || missing+=("$v")
	done
}
if [[ "${ARM_USE_OIDC:-}" == "true" ]]; then
	need ARM_CLIENT_ID ARM_TENANT_ID ARM_SUBSCRIPTION_ID
	if [[ -z "${ARM_OIDC_TOKEN:-}" && -z "${ARM_OIDC_TOKEN_FILE_PATH:-}" &&
		(-z "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" || -z "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}") ]]; then
		missing+=("ARM_OIDC_TOKEN or the GitHub id token (grant 'id-token: write' to the job)")
	fi
	[[ ${#missing[@]} -eq 0 ]] || die "ARM_USE_OIDC=true but missing: ${missing[*]}"
elif [[ "${ARM_USE_MSI:-}" == "true" ]]; then
	:
elif [[ -n "${ARM_CLIENT_ID:-}${ARM_CLIENT_SECRET:-}${ARM_CLIENT_CERTIFICATE_PATH:-}" ]]; then
	need ARM_CLIENT_ID ARM_TENANT_ID ARM_SUBSCRIPTION_ID
	if [[ -z "${ARM_CLIENT_SECRET:-}" && -z "${ARM_CLIENT_CERTIFICATE_PATH:-}" ]]; then
		missing+=("ARM_CLIENT_SECRET or ARM_CLIENT_CERTIFICATE_PATH (or ARM_USE_OIDC=true)")
	fi
	[[ ${#missing[@]} -eq 0 ]] || die "service principal credentials incomplete, missing: ${missing[*]}"
elif command -v az >/dev/null 2>&1; then
	if ! az account show --only-show-errors >/dev/null 2>&1; then
		die "no Azure credentials: run 'az login' (and 'az account set --subscription <id>'),
          or set ARM_CLIENT_ID, ARM_TENANT_ID, ARM_SUBSCRIPTION_ID with ARM_USE_OIDC=true (CI) or ARM_CLIENT_SECRET"
	fi
else
	die "no Azure credentials: install the Azure CLI and run 'az login',
          or set ARM_CLIENT_ID, ARM_TENANT_ID, ARM_SUBSCRIPTION_ID with ARM_USE_OIDC=true (CI) or ARM_CLIENT_SECRET"
fi

# --- Program host ---------------------------------------------------------
host="$(program_host)" || exit 1

# --- Command line ---------------------------------------------------------
global=(--cwd "$root")
if is_ci; then
	global+=(--non-interactive --color never)
fi

pulumi() {
	"$pulumi_bin" "${global[@]}" "$@"
}

# is_protected: config sluice:protect (the program's protection switch) or the stack
# tag sluice:protected is true. Either one protects the stack.
is_protected() {
	local v
	for v in "$(pulumi config get sluice:protect --stack="$stack" 2>/dev/null || true)" \
		"$(pulumi stack tag get sluice:protected --stack="$stack" 2>/dev/null || true)"; do
		case "$(printf '%s' "$v" | tr '[:upper:]' '[:lower:]')" in
		true | 1 | yes) return 0 ;;
		esac
	done
	return 1
}

if [[ "$action" == "destroy" ]] && is_protected; then
	die "refusing to destroy $stack: it is protected (config sluice:protect or tag sluice:protected is true);
          turn that off in a reviewed change first"
fi

if [[ "${CREATE:-}" == "1" && ("$action" == "preview" || "$action" == "up") ]]; then
	create=(stack select --create --stack="$stack")
	if [[ -n "${PULUMI_SECRETS_PROVIDER:-}" ]]; then
		create+=(--secrets-provider "$PULUMI_SECRETS_PROVIDER")
	fi
	pulumi "${create[@]}"
fi

cmd=("$action" --stack="$stack")
# --diff is for people; a machine-read preview (--json) gets none.
if [[ "$action" == "preview" && " ${ARGS:-} " != *" --json "* ]]; then
	cmd+=(--diff)
fi
if is_ci; then
	case "$action" in
	up) cmd+=(--yes --diff) ;;
	refresh | destroy) cmd+=(--yes) ;;
	esac
fi
if [[ "$action" == "destroy" && "${REMOVE:-}" == "1" ]]; then
	cmd+=(--remove)
fi
if [[ -n "${ARGS:-}" ]]; then
	read -r -a extra <<<"$ARGS"
	cmd+=("${extra[@]}")
fi

echo "delivery: pulumi ${cmd[*]}" >&2
exec "$host" -- "$pulumi_bin" "${global[@]}" "${cmd[@]}"
