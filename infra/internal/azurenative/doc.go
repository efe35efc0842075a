// Package azurenative holds what the hand-written azure-native wrappers below it
// share: the provider version they pin.
//
// Three azure-native v2 modules cannot be fetched here (documentdb, cache and
// managedidentity). Their subpackages (documentdb, cache/v20250701,
// cache/v20241101, managedidentity) register the very type tokens the
// generated SDK registers, pinned to the same provider version as the other
// azure-native modules in go.mod, with input structs whose Go field names and
// pulumi tags match the SDK's. Swapping in the generated SDK later is an import
// path change: github.com/pulumi/pulumi-azure-native-sdk/<module>/v2[/<api>].
//
// InputNames and CheckArgs let each wrapper's tests compare its inputs with
// the SDK's.
package azurenative
