// Package modroot finds the repository's roots by walking up from a
// directory: Find to the nearest go.mod (the module root, which the local
// engines, the test launchers, the image builder and their tests use), and
// FindFile to the nearest directory holding any named file (the infra
// config finds Pulumi.yaml with it).
//
// It sits outside workloads/dev and infra so that both trees, the images
// and their tests may import it without the dev tooling leaking into what
// ships; it imports only the standard library.
package modroot
