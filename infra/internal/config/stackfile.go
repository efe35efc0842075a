package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/modroot"
)

// Project is the part of Pulumi.yaml the offline tools need.
type Project struct {
	Name           string                `yaml:"name"`
	Runtime        any                   `yaml:"runtime"`
	Main           string                `yaml:"main"`
	StackConfigDir string                `yaml:"stackConfigDir"`
	Config         map[string]ConfigSpec `yaml:"config"`
}

// ConfigSpec is one typed entry of Pulumi.yaml's config section.
type ConfigSpec struct {
	Type        string    `yaml:"type"`
	Description string    `yaml:"description"`
	Default     yaml.Node `yaml:"default"`
	Items       *struct {
		Type string `yaml:"type"`
	} `yaml:"items"`
	Secret bool `yaml:"secret"`
}

// HasDefault reports whether the entry declares a default value.
func (s ConfigSpec) HasDefault() bool { return !s.Default.IsZero() }

// ReadProject parses the Pulumi.yaml at path.
func ReadProject(path string) (*Project, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read project file: %w", err)
	}
	var p Project
	if err := yaml.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if p.Name == "" {
		return nil, fmt.Errorf("parse %s: no project name", path)
	}
	return &p, nil
}

// ProjectKey returns the fully qualified form of a Pulumi.yaml config key:
// "region" becomes "sluice:region"; "sluice:region" stays as it is.
func (p *Project) ProjectKey(key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return p.Name + ":" + key
}

// StackFile is a stacks/Pulumi.<stack>.yaml file.
type StackFile struct {
	Config map[string]yaml.Node `yaml:"config"`
}

// ReadStackFile parses one stack settings file.
func ReadStackFile(path string) (*StackFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read stack file: %w", err)
	}
	var s StackFile
	if err := yaml.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &s, nil
}

// FindRoot walks up from dir to the directory holding Pulumi.yaml.
func FindRoot(dir string) (string, error) {
	root, err := modroot.FindFile(dir, "Pulumi.yaml")
	if err != nil {
		return "", fmt.Errorf("find the pulumi project: %w", err)
	}
	return root, nil
}

// StackValues returns the config map the Pulumi CLI would hand the program
// for stack: Pulumi.yaml's defaults overlaid with the stack file's values,
// keyed "sluice:name", scalars as text and arrays as JSON. It rejects a stack
// file that sets a key Pulumi.yaml does not declare, or a value of the wrong
// type, as the CLI does. The secret settings (SecretKeys) get their offline
// stand-ins, set or not.
func StackValues(root, stack string) (map[string]string, error) {
	p, err := ReadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	dir := root
	if p.StackConfigDir != "" {
		dir = filepath.Join(root, p.StackConfigDir)
	}
	s, err := ReadStackFile(filepath.Join(dir, "Pulumi."+stack+".yaml"))
	if err != nil {
		return nil, err
	}
	specs := map[string]ConfigSpec{}
	values := map[string]string{}
	for key, spec := range p.Config {
		full := p.ProjectKey(key)
		specs[full] = spec
		if spec.HasDefault() {
			v, err := encode(&spec.Default, spec.Type)
			if err != nil {
				return nil, fmt.Errorf("default of %s: %w", full, err)
			}
			values[full] = v
		}
	}
	for key, standIn := range SecretKeys {
		values[key] = standIn
	}
	for _, key := range sortedKeys(s.Config) {
		if _, secret := SecretKeys[key]; secret {
			continue // its stand-in stays: offline, a secure value cannot be read
		}
		spec, ok := specs[key]
		if !ok {
			return nil, fmt.Errorf("stack %s sets %s, which Pulumi.yaml does not declare", stack, key)
		}
		node := s.Config[key]
		v, err := encode(&node, spec.Type)
		if err != nil {
			return nil, fmt.Errorf("stack %s, %s: %w", stack, key, err)
		}
		values[key] = v
	}
	return values, nil
}

// encode turns a YAML value into the string form the engine passes to a
// program, checking it against the declared type.
func encode(n *yaml.Node, typ string) (string, error) {
	switch typ {
	case "array":
		if n.Kind != yaml.SequenceNode {
			return "", fmt.Errorf("want a list, got %q", n.Value)
		}
		var items []any
		if err := n.Decode(&items); err != nil {
			return "", fmt.Errorf("decode list: %w", err)
		}
		b, err := json.Marshal(items)
		if err != nil {
			return "", fmt.Errorf("encode list: %w", err)
		}
		return string(b), nil
	case "string", "integer", "boolean":
		if n.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("want a %s, got a structured value", typ)
		}
		switch typ {
		case "integer":
			if _, err := strconv.Atoi(n.Value); err != nil {
				return "", fmt.Errorf("want an integer, got %q", n.Value)
			}
		case "boolean":
			if _, err := strconv.ParseBool(n.Value); err != nil {
				return "", fmt.Errorf("want a boolean, got %q", n.Value)
			}
		}
		return n.Value, nil
	}
	return "", fmt.Errorf("unsupported config type %q", typ)
}
