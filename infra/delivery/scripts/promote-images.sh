#!/usr/bin/env bash
# Promotes images by digest from the build registry into a stack's registry with
# `az acr import` (an Azure Resource Manager operation: it works for a registry
# without public access too), and prints the digests file for the stack: the same
# digests, under the stack's registry.
#
# Usage: promote-images.sh DIGESTS_JSON BUILD_REGISTRY_ID TARGET_LOGIN_SERVER > stack-digests.json
# DIGESTS_JSON maps image name to <build registry>/<repo>[:tag]@sha256:<digest>
# (the output of `make images` on main). Every value must be digest-pinned.
set -euo pipefail

file="${1:?usage: promote-images.sh DIGESTS_JSON BUILD_REGISTRY_ID TARGET_LOGIN_SERVER}"
source_id="${2:?usage: promote-images.sh DIGESTS_JSON BUILD_REGISTRY_ID TARGET_LOGIN_SERVER}"
target="${3:?usage: promote-images.sh DIGESTS_JSON BUILD_REGISTRY_ID TARGET_LOGIN_SERVER}"

die() { echo "promote-images: $*" >&2; exit 1; }
[[ "$source_id" =~ ^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.ContainerRegistry/registries/[A-Za-z0-9]+$ ]] ||
	die "'$source_id' is not a container registry resource id"
[[ "$target" =~ ^[a-z0-9]+\.azurecr\.io$ ]] || die "'$target' is not an ACR login server"
jq -e 'type == "object" and length > 0 and all(.[]; type == "string" and test("^[^@]+/[^@]+@sha256:[0-9a-f]{64}$"))' "$file" >/dev/null ||
	die "$file must map every image to <registry>/<repo>@sha256:<digest>"

out="{}"
while IFS=$'\t' read -r name ref; do
	digest="${ref##*@}"
	path="${ref%@*}"
	path="${path#*/}"  # drop the build registry host
	repo="${path%%:*}" # drop a tag
	[[ "$repo" =~ ^[a-z0-9][a-z0-9._/-]*$ ]] || die "bad repository '$repo' in $ref"
	echo "promote-images: $repo@$digest -> $target" >&2
	az acr import --name "${target%%.*}" --registry "$source_id" --source "$repo@$digest" \
		--image "$repo:${digest#sha256:}" --force --output none >&2 ||
		die "import of $repo@$digest into $target failed"
	out="$(jq -c --arg k "$name" --arg v "$target/$repo@$digest" '. + {($k): $v}' <<<"$out")"
done < <(jq -r 'to_entries[] | "\(.key)\t\(.value)"' "$file")
jq . <<<"$out"
