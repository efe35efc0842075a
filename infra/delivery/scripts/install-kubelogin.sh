#!/usr/bin/env bash
# Installs kubelogin (the Entra ID credential plugin the clusters' kubeconfigs
# run; the Kubernetes provider needs it for preview, up, destroy and drift) into
# .sluice/bin, checked against the SHA-256 pinned in infra/delivery/tools.sha256.
#
# Environment: KUBELOGIN_VERSION (default 0.2.20), KUBELOGIN_DOWNLOAD_BASE (tests).
set -euo pipefail

version="${KUBELOGIN_VERSION:-0.2.20}"
version="${version#v}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
bin_dir="$root/.sluice/bin"
# shellcheck source=SCRIPTDIR/install-tool.sh
source "$root/infra/delivery/scripts/install-tool.sh"

platform="$(tool_platform amd64)"

if [[ -x "$bin_dir/kubelogin" ]] && "$bin_dir/kubelogin" --version 2>/dev/null | grep -q "v$version\b"; then
	echo "install-kubelogin: $bin_dir/kubelogin is already v$version"
	exit 0
fi
command -v unzip >/dev/null 2>&1 || { echo "install-kubelogin: unzip is required" >&2; exit 1; }

archive="kubelogin-${platform}.zip"
base="${KUBELOGIN_DOWNLOAD_BASE:-https://github.com/Azure/kubelogin/releases/download}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fetch_verified kubelogin "$version" "$platform" "$base/v$version/$archive" "$tmp/$archive"
unzip -q "$tmp/$archive" -d "$tmp/x"
bin="$tmp/x/bin/${platform/-/_}/kubelogin"
[[ -f "$bin" ]] || { echo "install-kubelogin: $archive has no bin/${platform/-/_}/kubelogin" >&2; exit 1; }
mkdir -p "$bin_dir"
install -m 0755 "$bin" "$bin_dir/kubelogin"
echo "install-kubelogin: installed kubelogin $version into $bin_dir"
