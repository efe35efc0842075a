package workloads

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/infra/internal/config"
)

// aksKubeconfig has the shape of an exec-format user kubeconfig of an
// Entra ID cluster (listClusterUserCredential?format=exec).
const aksKubeconfig = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi0tLS0t
    server: https://aks-sluice-dns.hcp.westeurope.azmk8s.io:443
  name: aks-sluice
contexts:
- context:
    cluster: aks-sluice
    user: clusterUser_rg-sluice-prod_aks-sluice
  name: aks-sluice
current-context: aks-sluice
kind: Config
users:
- name: clusterUser_rg-sluice-prod_aks-sluice
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - 6dae42f8-4368-4678-94ff-3960e28e3630
      - --client-id
      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a
      - --tenant-id
      - 00000000-0000-0000-0000-000000000002
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: install kubelogin
      provideClusterInfo: false
- name: token-user
  user:
    token: not-a-kubelogin-user
`

func TestForLoginRewritesKubeloginUsers(t *testing.T) {
	for _, mode := range config.KubeLoginModes {
		out, n, err := ForLogin([]byte(aksKubeconfig), mode)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s: rewrote %d users, want 1", mode, n)
		}
		var doc struct {
			CurrentContext string `yaml:"current-context"`
			Clusters       []struct {
				Cluster struct {
					Server string `yaml:"server"`
					CA     string `yaml:"certificate-authority-data"`
				} `yaml:"cluster"`
			} `yaml:"clusters"`
			Users []struct {
				Name string `yaml:"name"`
				User struct {
					Token string `yaml:"token"`
					Exec  struct {
						Command string   `yaml:"command"`
						Args    []string `yaml:"args"`
					} `yaml:"exec"`
				} `yaml:"user"`
			} `yaml:"users"`
		}
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		args := doc.Users[0].User.Exec.Args
		want := []string{"get-token", "--environment", "AzurePublicCloud", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
			"--tenant-id", "00000000-0000-0000-0000-000000000002", "--login", mode}
		if !slices.Equal(args, want) {
			t.Errorf("%s: args = %q, want %q", mode, args, want)
		}
		if doc.Users[1].User.Token != "not-a-kubelogin-user" {
			t.Errorf("%s: the token user changed: %+v", mode, doc.Users[1])
		}
		if doc.CurrentContext != "aks-sluice" || doc.Clusters[0].Cluster.Server == "" || doc.Clusters[0].Cluster.CA == "" {
			t.Errorf("%s: cluster or context lost: %+v", mode, doc)
		}
	}
}

func TestForLoginErrors(t *testing.T) {
	if _, _, err := ForLogin([]byte("users: [ {"), "azurecli"); err == nil {
		t.Error("broken YAML accepted")
	}
	if _, _, err := ForLogin([]byte(""), "azurecli"); err == nil {
		t.Error("empty kubeconfig accepted")
	}
	noToken := strings.Replace(aksKubeconfig, "- get-token\n", "- convert-kubeconfig\n", 1)
	if _, _, err := ForLogin([]byte(noToken), "azurecli"); err == nil || !strings.Contains(err.Error(), "not asked for a token") {
		t.Errorf("kubelogin without get-token: err = %v", err)
	}
	equals := strings.Replace(aksKubeconfig, "      - --login\n      - devicecode\n", "      - --login=devicecode\n", 1)
	out, _, err := ForLogin([]byte(equals), "msi")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "devicecode") || !strings.Contains(string(out), "- msi") {
		t.Errorf("--login=devicecode not replaced:\n%s", out)
	}
}
