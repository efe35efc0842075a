#!/usr/bin/env bash
# Rotates the Cosmos DB for Apache Cassandra account key the workloads use,
# without restarting them (see infra/DELIVERY.md, "Rotating the Cosmos DB key").
#
#   rotate-cosmos-key.sh --stack <name>                      # names from the stack's outputs
#   rotate-cosmos-key.sh --resource-group <rg> --account <cosmos account> --vault <key vault>
#
# Options: --key readwrite|readonly (default readwrite), --namespace <ns> (default sluice),
# --no-verify, --settle <s> (wait without verification, default 240), --timeout <s>
# (verification, default 600), --dry-run.
#
# The account has two read-write keys and two read-only keys. ingest and changefeed
# use the read-write key the Key Vault secret cosmos-cassandra-key holds ("active");
# api and enrich, which only read, the read-only key cosmos-cassandra-readonly-key
# holds (--key readonly; enrich, a CronJob, reads the secret at its next run). One
# rotation of either:
#   1. writes the other key to the secret; the Secrets Store CSI driver refreshes the
#      mounted file (every 2 minutes on AKS) and each workload opens a new session with
#      it and drains the old one (cqlsession.Rotating);
#   2. waits until every pod of the key's long-running workloads logged the switch
#      (or --settle seconds);
#   3. regenerates the previously active key, so the old key stops working.
# The next rotation goes the other way. The active key is found by comparing the
# secret with the account's keys, so it is right whoever wrote the secret last
# (`pulumi up` writes the primary key when it changed). Keys never appear on a
# command line: they travel through jq and a mode-600 temporary file.
set -euo pipefail

KEY=readwrite
STACK="" RG="" ACCOUNT="" VAULT="" NAMESPACE=sluice
VERIFY=1 SETTLE=240 TIMEOUT=600 DRY_RUN=0
POLL="${ROTATE_POLL_SECONDS:-10}"

die() { echo "rotate-cosmos-key: $*" >&2; exit 1; }
say() { echo "rotate-cosmos-key: $*"; }
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --key) KEY="${2:?}"; shift 2 ;;
    --stack) STACK="${2:?}"; shift 2 ;;
    --resource-group) RG="${2:?}"; shift 2 ;;
    --account) ACCOUNT="${2:?}"; shift 2 ;;
    --vault) VAULT="${2:?}"; shift 2 ;;
    --namespace) NAMESPACE="${2:?}"; shift 2 ;;
    --no-verify) VERIFY=0; shift ;;
    --settle) SETTLE="${2:?}"; shift 2 ;;
    --timeout) TIMEOUT="${2:?}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage ;;
    *) echo "rotate-cosmos-key: unknown argument $1" >&2; usage ;;
  esac
done
# Per kind of key: the secret, the account's key listing and field names, the
# regenerate kinds, and the workloads that hold long-lived sessions and log the switch.
case "$KEY" in
  readwrite)
    SECRET=cosmos-cassandra-key LIST_TYPE=keys FIELD_PRIMARY=primaryMasterKey FIELD_SECONDARY=secondaryMasterKey
    KIND_PRIMARY=primary KIND_SECONDARY=secondary WORKLOADS=(ingest changefeed) ;;
  readonly)
    SECRET=cosmos-cassandra-readonly-key LIST_TYPE=read-only-keys FIELD_PRIMARY=primaryReadonlyMasterKey
    FIELD_SECONDARY=secondaryReadonlyMasterKey KIND_PRIMARY=primaryReadonly KIND_SECONDARY=secondaryReadonly WORKLOADS=(api) ;;
  *) die "--key is '$KEY'; want readwrite or readonly" ;;
esac

for n in "$SETTLE" "$TIMEOUT" "$POLL"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "durations are whole seconds, got '$n'"
done

command -v az >/dev/null || die "the Azure CLI (az) is needed; log in with 'az login'"
command -v jq >/dev/null || die "jq is needed"

if [ -n "$STACK" ]; then
  command -v pulumi >/dev/null || die "--stack needs the Pulumi CLI (make pulumi-install), or pass --resource-group, --account and --vault"
  out() { pulumi stack output --stack "$STACK" "$1" 2>/dev/null || die "stack $STACK has no output $1 (run 'pulumi up' first)"; }
  RG="${RG:-$(out resourceGroupName)}"
  ACCOUNT="${ACCOUNT:-$(out cassandraUsername)}"
  VAULT="${VAULT:-$(out keyVaultName)}"
fi
if [ -z "$RG" ] || [ -z "$ACCOUNT" ] || [ -z "$VAULT" ]; then
  die "say which account: --stack <name>, or --resource-group, --account and --vault"
fi

tmp="$(mktemp -d)"
chmod 700 "$tmp"
trap 'rm -rf "$tmp"' EXIT

keys="$(az cosmosdb keys list --resource-group "$RG" --name "$ACCOUNT" --type "$LIST_TYPE" --output json)" ||
  die "cannot list the keys of Cosmos DB account $ACCOUNT (needs Cosmos DB Operator or Contributor on it)"
secret="$(az keyvault secret show --vault-name "$VAULT" --name "$SECRET" --output json)" ||
  die "cannot read secret $SECRET in vault $VAULT (needs Key Vault Secrets Officer on it)"

current="$(jq -r '.value // empty' <<<"$secret")"
primary="$(jq -r --arg f "$FIELD_PRIMARY" '.[$f] // empty' <<<"$keys")"
secondary="$(jq -r --arg f "$FIELD_SECONDARY" '.[$f] // empty' <<<"$keys")"
if [ -z "$primary" ] || [ -z "$secondary" ]; then
  die "account $ACCOUNT returned no keys"
fi
if [ "$current" = "$primary" ]; then
  active=$KIND_PRIMARY next=$KIND_SECONDARY next_key="$secondary"
elif [ "$current" = "$secondary" ]; then
  active=$KIND_SECONDARY next=$KIND_PRIMARY next_key="$primary"
else
  die "secret $SECRET holds neither key of $ACCOUNT: the workloads cannot be connected; run 'pulumi up' (it writes the primary key) before rotating"
fi
unset primary secondary current keys

say "account $ACCOUNT: the workloads use the $active key; moving them to the $next key, then regenerating the $active key"
if [ "$DRY_RUN" = 1 ]; then
  say "dry run: nothing changed"
  exit 0
fi

# 1. The other key into Key Vault, keeping the secret's content type and tags.
printf '%s' "$next_key" > "$tmp/key"
chmod 600 "$tmp/key"
unset next_key
content_type="$(jq -r '.contentType // empty' <<<"$secret")"
mapfile -t tags < <(jq -r '(.tags // {}) | to_entries[] | "\(.key)=\(.value)"' <<<"$secret")
unset secret
set_args=(keyvault secret set --vault-name "$VAULT" --name "$SECRET" --file "$tmp/key" --encoding utf-8 --output none)
[ -n "$content_type" ] && set_args+=(--content-type "$content_type")
[ "${#tags[@]}" -gt 0 ] && set_args+=(--tags "${tags[@]}")
since="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
az "${set_args[@]}" || die "could not write the $next key to $SECRET; nothing else changed"
rm -f "$tmp/key"
say "secret $SECRET now holds the $next key"

# 2. Wait for the workloads to use it.
if [ "$VERIFY" = 1 ] && command -v kubectl >/dev/null; then
  say "waiting (up to ${TIMEOUT}s) for every ${WORKLOADS[*]} pod in namespace $NAMESPACE to switch sessions"
  deadline=$(( $(date +%s) + TIMEOUT ))
  while :; do
    pending=()
    for w in "${WORKLOADS[@]}"; do
      pods="$(kubectl get pods --namespace "$NAMESPACE" --selector "app.kubernetes.io/name=$w" \
        --field-selector status.phase=Running --output 'jsonpath={.items[*].metadata.name}')" ||
        die "cannot list $w pods; the $next key is in Key Vault, the $active key is unchanged: rerun later"
      for pod in $pods; do
        if ! kubectl logs --namespace "$NAMESPACE" "$pod" --since-time "$since" 2>/dev/null | grep -q 'cassandra password changed'; then
          pending+=("$pod")
        fi
      done
    done
    [ "${#pending[@]}" -eq 0 ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      die "pods still on the old session after ${TIMEOUT}s: ${pending[*]}; NOT regenerating the $active key (both keys stay valid): check the pods, then rerun"
    fi
    sleep "$POLL"
  done
  say "every pod uses the $next key"
else
  say "not verifying (no kubectl, or --no-verify): waiting ${SETTLE}s for the CSI driver and the workloads"
  sleep "$SETTLE"
fi

# 3. Regenerate the key nobody uses any more.
az cosmosdb keys regenerate --resource-group "$RG" --name "$ACCOUNT" --key-kind "$active" --output none ||
  die "could not regenerate the $active key; the workloads use the $next key, rerun to finish"
say "regenerated the $active key; the workloads use the $next key (the next rotation moves them back to the $active key)"
