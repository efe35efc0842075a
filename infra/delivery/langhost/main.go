package langhost

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Main is the command line of a program binary that hosts itself:
//
//	<name> -- <pulumi> [global flags] preview|up|destroy|refresh [flags]
//	<name> -plugins
//
// The first runs the operation on program and returns the CLI's exit code;
// the second prints the resource plugins the CLI will install for it.
func Main(name string, program pulumi.RunFunc, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listPlugins := fs.Bool("plugins", false, "print the resource plugins the program needs and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s -- <pulumi> [global flags] preview|up|destroy|refresh [flags]\n", name)
		fmt.Fprintf(stderr, "       %s -plugins\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bi, _ := debug.ReadBuildInfo()
	plugins, err := PluginsFromBuildInfo(bi)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	if *listPlugins {
		for _, p := range plugins {
			fmt.Fprintf(stdout, "%s %s\n", p.Name, p.Version)
		}
		return 0
	}
	cli := fs.Args()
	if len(cli) < 2 {
		fs.Usage()
		return 2
	}
	code, err := Exec(context.Background(), program, plugins, Command{
		CLI: cli[0], Args: cli[1:], Stdin: stdin, Stdout: stdout, Stderr: stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return code
}
