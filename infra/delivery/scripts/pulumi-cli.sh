#!/usr/bin/env bash
# Builds the Pulumi CLI from source into .sluice/bin/pulumi, verified by the
# module sums committed in this repository.
#
# The build runs in the committed module infra/delivery/pulumi-cli: its go.mod
# requires pkg/v3 and sdk/v3 at the pinned version, repeats the one replace of
# pkg/v3 that matters outside the pulumi repository (github.com/atotto/clipboard),
# and names the CLI as a tool; its go.sum holds the hash of every module the
# build uses. With -mod=readonly (forced here, whatever GOFLAGS says) the go
# command never edits either file and refuses any download whose hash differs
# from go.sum or has no line there, so nothing is trusted from the server that
# serves the source. The version comes from that go.mod: change it there
# (`go get github.com/pulumi/pulumi/pkg/v3@vX github.com/pulumi/pulumi/sdk/v3@vX
# && go mod tidy` in that folder), never here.
#
# The Go language host (pulumi-language-go) is not built (the module proxy
# serves no version of its module) and not needed: the program binary hosts
# itself (infra/delivery/langhost; infra/DELIVERY.md, "The Pulumi CLI").
#
# Environment: GO (default go); PULUMI_VERSION, if set, must equal the pinned
# version. GOCACHE/GOMODCACHE are honoured (CI caches them per go.sum).
# Expect 10-30 minutes and a few GiB of memory on a cold build cache.
set -euo pipefail

go_cmd="${GO:-go}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
mod_dir="$root/infra/delivery/pulumi-cli"
bin_dir="$root/.sluice/bin"
out="$bin_dir/pulumi"
cli_pkg="github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"

say() { echo "pulumi-cli: $*"; }
die() { echo "pulumi-cli: $*" >&2; exit 1; }

command -v "$go_cmd" >/dev/null 2>&1 || die "'$go_cmd' not found: install Go (see go.mod for the version)"
[[ -r "$mod_dir/go.mod" && -r "$mod_dir/go.sum" ]] || die "the pinned module $mod_dir (go.mod and go.sum) is missing"

# The pinned module decides; no workspace, no -mod=mod from the caller's GOFLAGS.
flags=()
for f in ${GOFLAGS:-}; do
	[[ "$f" == -mod=* ]] || flags+=("$f")
done
flags+=(-mod=readonly)
export GOFLAGS="${flags[*]}" GOWORK=off
unset GONOSUMDB GONOSUMCHECK GOINSECURE
cd "$mod_dir"

version="$("$go_cmd" list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)" ||
	die "cannot read the pinned pkg/v3 version from $mod_dir/go.mod"
sdk="$("$go_cmd" list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)" ||
	die "cannot read the pinned sdk/v3 version from $mod_dir/go.mod"
[[ "$sdk" == "$version" ]] || die "$mod_dir/go.mod pins pkg/v3 $version but sdk/v3 $sdk; they must match"
if [[ -n "${PULUMI_VERSION:-}" && "v${PULUMI_VERSION#v}" != "$version" ]]; then
	die "PULUMI_VERSION=$PULUMI_VERSION but $mod_dir/go.mod pins $version; change the version there"
fi

if [[ -x "$out" ]] && [[ "$("$out" version 2>/dev/null || true)" == "$version" ]]; then
	say "$out is already $version"
	exit 0
fi

mkdir -p "$bin_dir"
say "Pulumi CLI $version from source, pinned by $mod_dir/go.sum"
say "[1/3] downloading the modules; each is checked against go.sum"
"$go_cmd" mod download
say "[2/3] checking the module cache against go.sum"
"$go_cmd" mod verify >/dev/null

say "[3/3] building $cli_pkg (10-30 minutes and a few GiB of memory on a cold cache)"
tmp="$out.tmp.$$"
start=$SECONDS
# A line a minute, so a long build is visibly alive; the sleep dies with it.
(
	trap 'kill "$nap" 2>/dev/null; exit 0' TERM
	while :; do
		sleep 60 &
		nap=$!
		wait "$nap"
		say "      still building ($((SECONDS - start)) s)"
	done
) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true; rm -f "$tmp"' EXIT
"$go_cmd" build -trimpath \
	-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
	-o "$tmp" "$cli_pkg"
kill "$ticker" 2>/dev/null || true
have="$("$tmp" version)" || die "the built CLI does not run"
[[ "$have" == "$version" ]] || die "the built CLI reports $have, want $version"
mv -f "$tmp" "$out"
say "built $have at $out in $((SECONDS - start)) s"
