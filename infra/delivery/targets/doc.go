// Package targets picks, from a `pulumi preview --json` plan, the resources a
// targeted `pulumi up` must include so that one kind of resource (the
// container registry) can be created before the rest of the stack: the
// resources of that type, and transitively their parents and the resources
// they depend on (dependencies and property dependencies). Providers are left
// out: Pulumi creates the default providers a targeted update needs itself.
package targets
