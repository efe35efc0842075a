package runner

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed runner.sh
var script []byte

// MicrosoftKeyFingerprint is the fingerprint of the key that signs
// packages.microsoft.com (the Azure CLI's apt repository); cloud-init
// refuses a key with another fingerprint.
const MicrosoftKeyFingerprint = "BC528686B50D79E339D3721CEB3E94ADBE1229CF"

// Packages are what the deploy jobs need besides the runner: the Azure CLI
// (azure/login, az acr import), make (the jobs' one entry point) and the
// tools the scripts call; actions/setup-go brings Go.
var Packages = []string{"azure-cli", "ca-certificates", "curl", "git", "jq", "make", "openssl", "unzip"}

// Settings are the values the runner service reads from
// /etc/sluice-runner/runner.env.
type Settings struct {
	Repository       string
	Label            string
	KeySecretURI     string
	RunnerVersion    string
	RunnerSHA256     string
	RunnerDir        string
	ServiceUser      string
	ScriptPath       string
	EnvironmentFile  string
	ServiceName      string
	SystemdUnitsPath string
}

// DefaultSettings fills in the fixed parts: the pinned release and where
// things go on the instance.
func DefaultSettings(repository, label, keySecretURI string) Settings {
	return Settings{
		Repository: repository, Label: label, KeySecretURI: keySecretURI,
		RunnerVersion: RunnerVersion, RunnerSHA256: RunnerSHA256, RunnerDir: "/opt/actions-runner",
		ServiceUser: "runner", ScriptPath: "/usr/local/bin/sluice-runner",
		EnvironmentFile: "/etc/sluice-runner/runner.env", ServiceName: "sluice-runner.service",
		SystemdUnitsPath: "/etc/systemd/system",
	}
}

// Env is the environment file's content, one KEY=value per line.
func (s Settings) Env() string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"RUNNER_REPOSITORY", s.Repository},
		{"RUNNER_LABELS", s.Label},
		{"KEY_SECRET_URI", s.KeySecretURI},
		{"RUNNER_VERSION", s.RunnerVersion},
		{"RUNNER_SHA256", s.RunnerSHA256},
		{"RUNNER_DIR", s.RunnerDir},
	} {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	return b.String()
}

// CloudInit is the instances' cloud-init user data (#cloud-config YAML).
func CloudInit(s Settings) (string, error) {
	unit := strings.Join([]string{
		"[Unit]",
		"Description=Sluice deploy runner (GitHub Actions, ephemeral registrations)",
		"Wants=network-online.target",
		"After=network-online.target",
		"",
		"[Service]",
		"User=" + s.ServiceUser,
		"EnvironmentFile=" + s.EnvironmentFile,
		"ExecStart=" + s.ScriptPath,
		"Restart=always",
		"RestartSec=30",
		"",
		"[Install]",
		"WantedBy=multi-user.target",
		"",
	}, "\n")
	doc := map[string]any{
		"package_update": true,
		"apt": map[string]any{"sources": map[string]any{"azure-cli.list": map[string]any{
			"source":    "deb [arch=amd64] https://packages.microsoft.com/repos/azure-cli/ $RELEASE main",
			"keyid":     MicrosoftKeyFingerprint,
			"keyserver": "https://packages.microsoft.com/keys/microsoft.asc",
		}}},
		"packages": Packages,
		"users": []any{"default", map[string]any{
			"name": s.ServiceUser, "shell": "/bin/bash", "lock_passwd": true, "homedir": "/home/" + s.ServiceUser,
		}},
		"write_files": []map[string]any{
			{"path": s.EnvironmentFile, "permissions": "0644", "content": s.Env()},
			{"path": s.ScriptPath, "permissions": "0755", "encoding": "b64", "content": base64.StdEncoding.EncodeToString(script)},
			{"path": s.SystemdUnitsPath + "/" + s.ServiceName, "permissions": "0644", "content": unit},
		},
		"runcmd": [][]string{
			{"env", "RUNNER_VERSION=" + s.RunnerVersion, "RUNNER_SHA256=" + s.RunnerSHA256, "RUNNER_DIR=" + s.RunnerDir, s.ScriptPath, "install"},
			{"systemctl", "daemon-reload"},
			{"systemctl", "enable", "--now", s.ServiceName},
		},
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("cloud-init: %w", err)
	}
	return "#cloud-config\n" + string(out), nil
}
