package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/plan"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		os.Exit(1)
	}
}

func run() error {
	stack := flag.String("stack", "dev", "stack whose stacks/Pulumi.<stack>.yaml to plan")
	asJSON := flag.Bool("json", false, "print the resources as JSON")
	bench := flag.Bool("bench", false, "time the mocked run instead of printing the plan")
	runs := flag.Int("runs", 3, "runs to take the median of with -bench")
	dir := flag.String("C", ".", "directory inside the project (Pulumi.yaml is looked up from here)")
	flag.Parse()
	root, err := config.FindRoot(*dir)
	if err != nil {
		return err
	}
	if *bench {
		return benchmark(root, *stack, *runs)
	}
	m, err := plan.Run(root, *stack)
	if err != nil {
		return err
	}
	if *asJSON {
		return plan.RenderJSON(os.Stdout, m.Resources())
	}
	return plan.Render(os.Stdout, *stack, m.Resources())
}

func benchmark(root, stack string, runs int) error {
	if runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	times := make([]float64, 0, runs)
	resources := 0
	for i := 0; i < runs; i++ {
		start := time.Now()
		m, err := plan.Run(root, stack)
		if err != nil {
			return err
		}
		times = append(times, time.Since(start).Seconds())
		resources = len(m.Resources())
	}
	sort.Float64s(times)
	median := times[len(times)/2]
	fmt.Printf("%-8s %10s %10s %10s %10s\n", "stack", "resources", "runs", "median s", "max s")
	fmt.Printf("%-8s %10d %10d %10.3f %10.3f\n", stack, resources, runs, median, times[len(times)-1])
	line, err := json.Marshal(struct {
		Bench     string  `json:"bench"`
		Stack     string  `json:"stack"`
		Resources int     `json:"resources"`
		Seconds   float64 `json:"seconds"`
	}{"plan", stack, resources, median})
	if err != nil {
		return fmt.Errorf("encode bench line: %w", err)
	}
	fmt.Println(string(line))
	return nil
}
