package workloads

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// ForLogin rewrites an AKS kubeconfig in exec format so that every user
// whose credentials come from kubelogin logs in with mode (azurecli,
// workloadidentity, spn, msi) instead of the interactive device code flow
// AKS writes. The client id of the interactive flow is dropped: the
// non-interactive modes take the identity from their own environment
// (az login, AZURE_CLIENT_ID, ...). Users that do not run kubelogin are kept
// as they are. It returns how many users were rewritten.
func ForLogin(raw []byte, mode string) ([]byte, int, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, 0, fmt.Errorf("parse kubeconfig: %w", err)
	}
	if doc == nil {
		return nil, 0, fmt.Errorf("parse kubeconfig: empty document")
	}
	users, _ := doc["users"].([]any)
	rewritten := 0
	for _, u := range users {
		entry, _ := u.(map[string]any)
		user, _ := entry["user"].(map[string]any)
		exec, _ := user["exec"].(map[string]any)
		if exec == nil || exec["command"] != "kubelogin" {
			continue
		}
		raw, _ := exec["args"].([]any)
		args := make([]string, 0, len(raw)+2)
		for _, a := range raw {
			s, ok := a.(string)
			if !ok {
				return nil, 0, fmt.Errorf("kubeconfig user %v: kubelogin argument %v is not a string", entry["name"], a)
			}
			args = append(args, s)
		}
		if !slices.Contains(args, "get-token") {
			return nil, 0, fmt.Errorf("kubeconfig user %v: kubelogin is not asked for a token (args %q)", entry["name"], args)
		}
		args = dropFlag(args, "--login", "-l")
		args = dropFlag(args, "--client-id")
		args = append(args, "--login", mode)
		out := make([]any, len(args))
		for i, a := range args {
			out[i] = a
		}
		exec["args"] = out
		rewritten++
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, 0, fmt.Errorf("write kubeconfig: %w", err)
	}
	return b, rewritten, nil
}

// dropFlag removes every occurrence of a flag given as "--flag value" or
// "--flag=value".
func dropFlag(args []string, names ...string) []string {
	out := args[:0:0]
	for i := 0; i < len(args); i++ {
		a := args[i]
		matched := false
		for _, n := range names {
			if a == n {
				i++ // its value
				matched = true
				break
			}
			if len(a) > len(n) && a[:len(n)+1] == n+"=" {
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, a)
		}
	}
	return out
}
