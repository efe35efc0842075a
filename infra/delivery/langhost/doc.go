// Package langhost serves a Go Pulumi program to the Pulumi CLI from inside
// the process that links it, so `pulumi preview|up|destroy|refresh` runs
// without the pulumi-language-go plugin.
//
// Why: the CLI that CI uses is built from a module whose go.sum pins every
// dependency (infra/delivery/pulumi-cli), and the Go language host's module is
// not part of that build. The CLI's --client flag connects an operation to a
// language runtime that is already running; Start is that runtime. It
// answers Run by running the program against the engine's resource monitor,
// and GetRequiredPlugins with the resource plugins the binary was built with
// (PluginsFromBuildInfo), so the CLI installs the same provider versions the
// program's SDKs were generated for, as the Go language host does.
//
// Contract: one Host serves one CLI invocation at a time (the engine calls Run
// once per operation); Exec runs the CLI with --client added to the operation
// and returns the CLI's exit code.
package langhost
