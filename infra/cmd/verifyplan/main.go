// Command verifyplan checks one stack's offline plan against Azure's and
// Kubernetes' own rules (package plancheck: schema, names, order,
// manifests, contract), prints each violation on a line and then one JSON
// line {"check":"plan","stack":…,"resources":…,"violations":N}, and exits 1
// when there is any violation. `make verify-plan STACK=<name>` runs it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/plancheck/stackcheck"
)

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifyplan:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run() (int, error) {
	stack := flag.String("stack", "dev", "stack whose stacks/Pulumi.<stack>.yaml to plan and check")
	dir := flag.String("C", ".", "directory inside the project (Pulumi.yaml is looked up from here)")
	flag.Parse()
	root, err := config.FindRoot(*dir)
	if err != nil {
		return 0, err
	}
	rep, err := stackcheck.Run(root, *stack)
	if err != nil {
		return 0, err
	}
	for _, v := range rep.Violations {
		fmt.Println(v.String())
	}
	line, err := json.Marshal(struct {
		Check      string `json:"check"`
		Stack      string `json:"stack"`
		Resources  int    `json:"resources"`
		Violations int    `json:"violations"`
	}{"plan", rep.Stack, rep.Resources, len(rep.Violations)})
	if err != nil {
		return 0, fmt.Errorf("encode summary: %w", err)
	}
	fmt.Println(string(line))
	if len(rep.Violations) > 0 {
		return 1, nil
	}
	return 0, nil
}
