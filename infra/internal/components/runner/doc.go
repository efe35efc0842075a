// Package runner declares a stack's self-hosted GitHub Actions runner: a
// virtual machine scale set in the deploy-runner subnet of the stack's VNet
// (package network gives that subnet no inbound traffic and a NAT gateway
// out), so the jobs that must reach a private AKS API server and registry
// (prod's deploy and drift check) have a path. Hosted runners cannot.
//
// Each instance boots from cloud-init (CloudInit): it installs the Azure CLI
// from Microsoft's repository (key checked by fingerprint), the GitHub
// Actions runner release pinned in pins.go (SHA-256 checked), and
// runner.sh as a systemd service that registers an ephemeral runner with the
// label sluice-<stack>, runs one job and registers again. Registration goes
// through a GitHub App whose private key is the stack secret
// sluice:deployRunnerGithubAppKey; the program writes it to the stack's Key
// Vault and gives the scale set's managed identity read access to that one
// secret. The instances have no public address and accept no connection;
// nobody logs in (the SSH key Azure requires is generated and thrown away).
//
// The runner's own identity has no Azure role beyond that secret: a job signs
// in as its trust level's identity through GitHub's OIDC token, as on a
// hosted runner (infra/bootstrap/trust).
//
// A first deploy of a stack with a private API server creates the runner
// before anything needs it: a targeted up from a hosted runner (Azure
// Resource Manager calls only), then the full deploy on the runner
// (infra/DELIVERY.md, "Private clusters").
package runner
