#!/usr/bin/env bash
# Installs the official Pulumi CLI release into .sluice/bin: the `pulumi` binary
# plus the language hosts it ships (pulumi-language-go runs the sluice program).
#
# The archive is checked against the SHA-256 pinned in infra/delivery/tools.sha256
# (version and platform) before anything is unpacked; with no pinned digest it
# refuses to install. No digest is pinned for v3.250.0 yet, so this fails closed;
# `make pulumi-cli` (CI's path) builds the CLI from source instead, verified by
# infra/delivery/pulumi-cli/go.sum, but without the language hosts.
#
# Environment: PULUMI_VERSION (default v3.250.0), PULUMI_DOWNLOAD_BASE (tests).
set -euo pipefail

version="${PULUMI_VERSION:-v3.250.0}"
version="${version#v}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
bin_dir="$root/.sluice/bin"
# shellcheck source=SCRIPTDIR/install-tool.sh
source "$root/infra/delivery/scripts/install-tool.sh"

platform="$(tool_platform x64)"

if [[ -x "$bin_dir/pulumi" && -x "$bin_dir/pulumi-language-go" ]] &&
	[[ "$("$bin_dir/pulumi" version 2>/dev/null || true)" == "v$version" ]]; then
	echo "install-pulumi: $bin_dir/pulumi is already v$version"
	exit 0
fi

archive="pulumi-v${version}-${platform}.tar.gz"
base="${PULUMI_DOWNLOAD_BASE:-https://get.pulumi.com/releases/sdk}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! fetch_verified pulumi "$version" "$platform" "$base/$archive" "$tmp/$archive"; then
	echo "install-pulumi: the release archive cannot be verified; 'make pulumi-cli' builds the CLI from" >&2
	echo "                source instead, every module checked against infra/delivery/pulumi-cli/go.sum" >&2
	exit 1
fi
tar -xzf "$tmp/$archive" -C "$tmp"
mkdir -p "$bin_dir"
for f in "$tmp"/pulumi/*; do
	install -m 0755 "$f" "$bin_dir/$(basename "$f")"
done
echo "install-pulumi: installed $("$bin_dir/pulumi" version) into $bin_dir"
