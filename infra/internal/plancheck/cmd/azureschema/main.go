// Command azureschema regenerates infra/internal/plancheck/testdata/azure-schema.json,
// the subset of the azure-native provider schema the plan checks use: for
// every azure-native type token the program registers in the dev, staging
// and prod plans (read from the golden plans infra/testdata/plan-*.golden,
// which `make plan-update` keeps current; plus -tokens), the input properties with their nested
// object types, the required inputs and the enum values, read from the
// provider's published Python SDK wheels (pulumi-azure-native on PyPI),
// which carry the same schema as the Go SDK and, unlike it, name the enum
// of each enum-typed property. Wheels are searched in the order given: the
// first that knows a token wins. `make azure-schema` downloads the wheels
// and runs it.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/plancheck"
)

// planToken finds a resource's type token on a line of a rendered plan.
var planToken = regexp.MustCompile(`(?m)[─ ](azure-native:[A-Za-z0-9/]+:[A-Za-z0-9]+) `)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "azureschema:", err)
		os.Exit(1)
	}
}

func run() error {
	var wheels, tokens list
	flag.Var(&wheels, "wheel", "pulumi-azure-native wheel (.whl), in order of precedence; repeat")
	flag.Var(&tokens, "tokens", "comma-separated type tokens to include besides the plans' (repeatable)")
	out := flag.String("out", "infra/internal/plancheck/testdata/azure-schema.json", "output file")
	stacks := flag.String("stacks", "dev,staging,prod", "stacks whose plans list the tokens")
	dir := flag.String("C", ".", "directory inside the project")
	flag.Parse()
	if len(wheels) == 0 {
		return errors.New("give at least one -wheel")
	}
	root, err := config.FindRoot(*dir)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, t := range tokens {
		for _, p := range strings.Split(t, ",") {
			if p = strings.TrimSpace(p); p != "" {
				want[p] = true
			}
		}
	}
	for _, stack := range strings.Split(*stacks, ",") {
		b, err := os.ReadFile(filepath.Join(root, "infra", "testdata", "plan-"+stack+".golden"))
		if err != nil {
			return fmt.Errorf("plan of %s: %w", stack, err)
		}
		for _, t := range planToken.FindAllStringSubmatch(string(b), -1) {
			want[t[1]] = true
		}
	}
	s := &plancheck.Schema{Resources: map[string]*plancheck.Object{}, Types: map[string]*plancheck.Object{}, Enums: map[string][]string{}}
	var sdks []*sdk
	for _, w := range wheels {
		k, err := openWheel(w)
		if err != nil {
			return err
		}
		sdks = append(sdks, k)
	}
	sorted := make([]string, 0, len(want))
	for t := range want {
		sorted = append(sorted, t)
	}
	sort.Strings(sorted)
	used := map[string]bool{}
	for _, token := range sorted {
		found := false
		for _, k := range sdks {
			if _, ok := k.tokens[token]; !ok {
				continue
			}
			b := &builder{sdk: k, schema: s}
			if err := b.resource(token); err != nil {
				return err
			}
			used[k.name] = true
			found = true
			break
		}
		if !found {
			// Left out: the check reports the token as unknown.
			fmt.Fprintf(os.Stderr, "azureschema: %s is in no wheel\n", token)
		}
	}
	for _, k := range sdks {
		if used[k.name] {
			s.Source = append(s.Source, k.name+" (PyPI pulumi-azure-native)")
		}
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return fmt.Errorf("encode schema: %w", err)
	}
	path := *out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write schema: %w", err)
	}
	fmt.Printf("azureschema: %d resources, %d types, %d enums -> %s\n", len(s.Resources), len(s.Types), len(s.Enums), *out)
	return nil
}
