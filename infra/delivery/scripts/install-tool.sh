#!/usr/bin/env bash
# Shared by install-pulumi.sh and install-kubelogin.sh: download an archive and
# check it against the SHA-256 pinned in infra/delivery/tools.sha256 (never a
# digest served next to the archive).
#
#   source install-tool.sh
#   fetch_verified TOOL VERSION PLATFORM URL DEST
#
# Environment: SLUICE_TOOL_SUMS overrides the pinned file (tests).
set -euo pipefail

tool_sums="${SLUICE_TOOL_SUMS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools.sha256}"

# tool_platform X64NAME: prints <os>-<arch> as release archives name them, with
# X64NAME (x64 or amd64) for x86_64; fails on a platform no release serves.
tool_platform() {
	case "$(uname -s)-$(uname -m)" in
	Linux-x86_64) echo "linux-$1" ;;
	Linux-aarch64 | Linux-arm64) echo linux-arm64 ;;
	Darwin-x86_64) echo "darwin-$1" ;;
	Darwin-arm64) echo darwin-arm64 ;;
	*) echo "install: unsupported platform $(uname -s)-$(uname -m)" >&2; return 1 ;;
	esac
}

# pinned_sum TOOL VERSION PLATFORM: prints the pinned digest or fails, naming the fix.
pinned_sum() {
	local tool="$1" version="$2" platform="$3" want
	[[ -r "$tool_sums" ]] || { echo "install: the pinned checksums file $tool_sums is missing" >&2; return 1; }
	want="$(awk -v t="$tool" -v v="$version" -v p="$platform" '$1 == t && $2 == v && $3 == p { print $4 }' "$tool_sums")"
	if [[ -z "$want" ]]; then
		echo "install: no SHA-256 pinned for $tool $version $platform in $tool_sums;" >&2
		echo "         refusing to install an unverified download: add '$tool $version $platform <sha256>' from the release's published checksums (see the file's header)" >&2
		return 1
	fi
	if [[ ! "$want" =~ ^[0-9a-f]{64}$ || $(wc -l <<<"$want") -ne 1 ]]; then
		echo "install: the pinned SHA-256 for $tool $version $platform in $tool_sums is malformed or repeated: $want" >&2
		return 1
	fi
	printf '%s\n' "$want"
}

# fetch_verified TOOL VERSION PLATFORM URL DEST: downloads URL to DEST and checks it.
fetch_verified() {
	local tool="$1" version="$2" platform="$3" url="$4" dest="$5" want have
	want="$(pinned_sum "$tool" "$version" "$platform")" || return 1
	for cmd in curl sha256sum; do
		command -v "$cmd" >/dev/null 2>&1 || { echo "install: $cmd is required" >&2; return 1; }
	done
	echo "install: downloading $url"
	curl -fsSL --retry 3 -o "$dest" "$url" || { echo "install: download of $url failed" >&2; return 1; }
	have="$(sha256sum "$dest" | awk '{print $1}')"
	if [[ "$have" != "$want" ]]; then
		rm -f "$dest"
		echo "install: checksum mismatch for $tool $version $platform: got $have, pinned $want" >&2
		return 1
	fi
	echo "install: $tool $version $platform matches its pinned SHA-256"
}
