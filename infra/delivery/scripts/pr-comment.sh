#!/usr/bin/env bash
# Creates or updates the one pull-request comment whose body contains MARKER.
# Only comments written by the workflow's own bot account are considered, so a
# person quoting the marker is never overwritten.
#
# Usage: pr-comment.sh PR_NUMBER BODY_FILE
# Environment: GH_TOKEN, GITHUB_REPOSITORY; MARKER (default <!-- sluice:pulumi-preview -->),
# BOT_LOGIN (default github-actions[bot]).
set -euo pipefail

pr="${1:?usage: pr-comment.sh PR_NUMBER BODY_FILE}"
body="${2:?usage: pr-comment.sh PR_NUMBER BODY_FILE}"
marker="${MARKER:-<!-- sluice:pulumi-preview -->}"
bot="${BOT_LOGIN:-github-actions[bot]}"
repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"

[[ "$pr" =~ ^[0-9]+$ ]] || { echo "pr-comment: '$pr' is not a pull request number" >&2; exit 1; }
[[ -s "$body" ]] || { echo "pr-comment: $body is empty" >&2; exit 1; }
grep -qF -- "$marker" "$body" || { echo "pr-comment: $body lacks the marker $marker" >&2; exit 1; }

id="$(gh api --paginate "repos/$repo/issues/$pr/comments" \
	--jq ".[] | select(.user.login == \"$bot\" and (.body | contains(\"$marker\"))) | .id" | head -n 1)"

if [[ -n "$id" ]]; then
	gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$body" --silent
	echo "pr-comment: updated comment $id on #$pr"
else
	gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --silent
	echo "pr-comment: added a comment to #$pr"
fi
