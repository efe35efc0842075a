#!/usr/bin/env bash
# Installs the official Pulumi CLI release into .sluice/bin: the `pulumi` binary
# plus the language hosts it ships (pulumi-language-go runs the sluice program).
#
# The archive is checked against the SHA-256 listed in the release's checksums file
# before anything is unpacked; set PULUMI_SHA256 to pin the archive's digest in
# addition. Used by CI; `make pulumi-cli` is the from-source alternative (no
# language hosts, so it serves stack/state commands but not preview/up).
#
# Environment: PULUMI_VERSION (default v3.250.0).
set -euo pipefail

version="${PULUMI_VERSION:-v3.250.0}"
version="${version#v}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
bin_dir="$root/.sluice/bin"

case "$(uname -s)-$(uname -m)" in
Linux-x86_64) platform=linux-x64 ;;
Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
Darwin-x86_64) platform=darwin-x64 ;;
Darwin-arm64) platform=darwin-arm64 ;;
*) echo "install-pulumi: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

if [[ -x "$bin_dir/pulumi" && -x "$bin_dir/pulumi-language-go" ]] &&
	[[ "$("$bin_dir/pulumi" version 2>/dev/null || true)" == "v$version" ]]; then
	echo "install-pulumi: $bin_dir/pulumi is already v$version"
	exit 0
fi

for tool in curl tar sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || { echo "install-pulumi: $tool is required" >&2; exit 1; }
done

archive="pulumi-v${version}-${platform}.tar.gz"
base="https://get.pulumi.com/releases/sdk"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "install-pulumi: downloading $archive"
curl -fsSL --retry 3 -o "$tmp/$archive" "$base/$archive"
curl -fsSL --retry 3 -o "$tmp/checksums.txt" "$base/pulumi-${version}-checksums.txt"

want="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/checksums.txt")"
if [[ ! "$want" =~ ^[0-9a-f]{64}$ ]]; then
	echo "install-pulumi: no checksum for $archive in pulumi-${version}-checksums.txt" >&2
	exit 1
fi
if [[ -n "${PULUMI_SHA256:-}" && "$PULUMI_SHA256" != "$want" ]]; then
	echo "install-pulumi: PULUMI_SHA256=$PULUMI_SHA256 but the release lists $want" >&2
	exit 1
fi
have="$(sha256sum "$tmp/$archive" | awk '{print $1}')"
if [[ "$have" != "$want" ]]; then
	echo "install-pulumi: checksum mismatch for $archive: got $have, want $want" >&2
	exit 1
fi

tar -xzf "$tmp/$archive" -C "$tmp"
mkdir -p "$bin_dir"
for f in "$tmp"/pulumi/*; do
	install -m 0755 "$f" "$bin_dir/$(basename "$f")"
done
echo "install-pulumi: installed $("$bin_dir/pulumi" version) into $bin_dir"
