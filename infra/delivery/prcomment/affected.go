package prcomment

import (
	"path"
	"strings"
)

// Affected decides which of stacks a change touches, given the changed paths
// (relative to the repository root, as `git diff --name-only` prints them).
//
//   - stacks/Pulumi.<stack>.yaml touches that stack only;
//   - documentation (*.md) and CI definitions (.github/) touch no stack;
//   - any other path (the program, Pulumi.yaml, go.mod, workloads, images, ...)
//     touches every stack, since the program is shared by all of them.
//
// The result keeps the order of stacks.
func Affected(changed, stacks []string) []string {
	hit := map[string]bool{}
	all := false
	for _, p := range changed {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if dir, file := path.Split(p); dir == "stacks/" && strings.HasPrefix(file, "Pulumi.") && strings.HasSuffix(file, ".yaml") {
			hit[strings.TrimSuffix(strings.TrimPrefix(file, "Pulumi."), ".yaml")] = true
			continue
		}
		if strings.HasSuffix(p, ".md") || strings.HasPrefix(p, ".github/") {
			continue
		}
		all = true
	}
	var out []string
	for _, s := range stacks {
		if all || hit[s] {
			out = append(out, s)
		}
	}
	return out
}
