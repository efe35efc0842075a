// Package stackreaper decides which short-lived Pulumi stacks have outlived their
// time to live and may be destroyed and removed.
//
// The package is pure logic: callers feed it what `pulumi stack ls --json`,
// `pulumi stack tag ls --json` and `pulumi config --json` print (see ParseStackList,
// ParseTags and ParseConfig) and a clock, and get back a Plan that lists the stacks
// to destroy and, for every other stack, the reason it is left alone.
//
// The rules, in the order they are applied:
//
//  1. Only dev stacks (`dev`, `dev-*`) and review stacks (`review-*`, such as
//     `review-pr42`) are candidates. `staging`, `prod` and every other name are never
//     selected, whatever their configuration says. For a fully qualified name
//     (`org/project/stack`) the last segment is the stack name.
//  2. A stack marked protected (config `sluice:protect`, the program's protection
//     switch that prod sets, or tag `sluice:protected`, set to true) is never
//     selected.
//  3. A stack with an update in progress is never selected.
//  4. The time to live comes from tag `sluice:ttl-hours` or config `sluice:ttlHours`
//     (a positive whole number of hours). A dev
//     stack without one is never selected; a review stack without one gets
//     Policy.DefaultReviewTTL (DefaultReviewTTL, 72 hours, in the stackreaper command).
//  5. A stack expires when the time since its last activity exceeds the TTL. Last
//     activity is the later of the stack's last update and its creation time (config
//     `sluice:createdAt` or tag `sluice:created-at`, RFC 3339). The TTL is therefore an
//     idle timeout: a review stack that is still being updated by its pull request is
//     kept, a forgotten one is reclaimed. A stack with neither time is never selected.
//
// Where a stack has both a tag and the matching config key, the tag wins (tags are
// set per stack in the backend, while a review stack's config is copied from dev),
// except for protection: either one set to true protects the stack.
//
// A value that cannot be parsed (a TTL that is not a positive integer, a malformed
// time, a protected flag that is not a boolean) is an error:
// that stack is never selected and MakePlan returns an error naming every such stack.
package stackreaper
