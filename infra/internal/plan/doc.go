// Package plan is the offline plan: it runs the Sluice program under mocks
// with a stack's configuration (Pulumi.yaml defaults plus
// stacks/Pulumi.<stack>.yaml), without Azure credentials, and renders the
// registered resources as a tree — each resource's type token, logical name,
// parent and inputs. Golden files of the rendering under infra/testdata make
// every infrastructure change show up in a pull request as a plain diff.
package plan
