package config

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
)

// GitHubAppConfig is the secret config key holding the GitHub App the deploy
// runner registers with, as JSON: {"appId": "<digits>", "installationId":
// "<digits>", "privateKey": "<PEM>"}. The runner component reads it as a
// secret, never through Config (so it is not among Keys: Pulumi.yaml cannot
// declare a secret without making it required).
const GitHubAppConfig = Namespace + ":deployRunnerGithubApp"

// DeployRunner is the self-hosted GitHub Actions runner inside the stack's
// VNet: the path of the deploy and drift jobs to a private AKS API server
// and registry (infra/DELIVERY.md, "Private clusters").
type DeployRunner struct {
	// Enabled declares the runner: a subnet with outbound NAT, a scale set
	// and its registration settings.
	Enabled bool
	// VMSize sizes each instance; a deploy compiles the program (several GiB).
	VMSize string
	// Instances is the number of runners (one job each at a time).
	Instances int
	// Repository is the GitHub repository (owner/name) the runners serve.
	Repository string
	// SSHPublicKey is an administrator key for break-glass access; empty
	// gives the instances a key nobody holds (see components/runner).
	SSHPublicKey string
}

// RunnerLabel is the runner label the stack's jobs select
// (runs-on: [self-hosted, linux, sluice-<stack>]).
func (c *Config) RunnerLabel() string { return "sluice-" + c.Stack }

var (
	repositoryPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$`)
	sshKeyPattern     = regexp.MustCompile(`^(ssh-rsa|ssh-ed25519) [A-Za-z0-9+/]+={0,3}( [^\n]*)?$`)
)

func readDeployRunner(r *reader) DeployRunner {
	return DeployRunner{
		Enabled:      r.boolean("deployRunner"),
		VMSize:       r.str("deployRunnerVmSize"),
		Instances:    r.integer("deployRunnerInstances"),
		Repository:   r.str("deployRunnerRepository"),
		SSHPublicKey: r.str("deployRunnerSshPublicKey"),
	}
}

func (v *validator) deployRunner(c *Config) {
	d := c.DeployRunner
	if !d.Enabled {
		return
	}
	if !vmSizePattern.MatchString(d.VMSize) {
		v.addf("sluice:deployRunnerVmSize %q is not a VM size like Standard_D4s_v5", d.VMSize)
	}
	v.between("deployRunnerInstances", d.Instances, 1, 10)
	if !repositoryPattern.MatchString(d.Repository) {
		v.addf("sluice:deployRunnerRepository %q is not a GitHub repository (owner/name); the runners register there", d.Repository)
	}
	if d.SSHPublicKey != "" && !sshKeyPattern.MatchString(d.SSHPublicKey) {
		v.addf("sluice:deployRunnerSshPublicKey is not an OpenSSH public key (ssh-rsa or ssh-ed25519 <base64> [comment])")
	}
	if c.Network.DeployRunnerSubnetCIDR == "" {
		v.addf("sluice:deployRunner is true but sluice:deployRunnerSubnetCidr is empty; give the runners a subnet of sluice:vnetCidr (a /28 is enough)")
	}
}

var digitsPattern = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)

// GitHubApp is the value of the secret GitHubAppConfig.
type GitHubApp struct {
	AppID          string `json:"appId"`
	InstallationID string `json:"installationId"`
	PrivateKey     string `json:"privateKey"`
}

// ParseGitHubApp reads and checks the secret's JSON; the error never quotes
// the value.
func ParseGitHubApp(raw string) (GitHubApp, error) {
	var app GitHubApp
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&app); err != nil {
		return GitHubApp{}, fmt.Errorf("%s is not JSON like {\"appId\": \"123\", \"installationId\": \"456\", \"privateKey\": \"-----BEGIN ...\"}", GitHubAppConfig)
	}
	var problems []string
	if !digitsPattern.MatchString(app.AppID) {
		problems = append(problems, "appId is not a GitHub App id (digits)")
	}
	if !digitsPattern.MatchString(app.InstallationID) {
		problems = append(problems, "installationId is not an installation id (digits)")
	}
	if b, _ := pem.Decode([]byte(app.PrivateKey)); b == nil || !strings.HasSuffix(b.Type, "PRIVATE KEY") {
		problems = append(problems, "privateKey is not a PEM private key (the .pem file GitHub gives for the app)")
	}
	if len(problems) > 0 {
		return GitHubApp{}, fmt.Errorf("%s: %s", GitHubAppConfig, strings.Join(problems, "; "))
	}
	return app, nil
}

// SecretKeys are the secret settings the program reads outside Config, with
// the stand-in an offline plan uses for each (StackValues): offline, a stack
// file's secure values cannot be decrypted, and a stack may not have set them
// yet. A real up reads the real value, and refuses without it.
var SecretKeys = map[string]string{GitHubAppConfig: OfflineGitHubApp}

// OfflineGitHubApp is a well-formed stand-in for the GitHub App secret; its
// "key" is a PEM block around text, not a key.
var OfflineGitHubApp = `{"appId":"1","installationId":"1","privateKey":"` +
	strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("offline plan stand-in, not a key")})), "\n", `\n`) + `"}`
