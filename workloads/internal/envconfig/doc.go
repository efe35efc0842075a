// Package envconfig reads a workload's configuration from environment
// variables once, at start, and reports every missing or invalid variable in
// one error, so an operator fixes a deployment in one pass instead of one
// variable per restart.
package envconfig
