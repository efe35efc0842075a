package version

import (
	"fmt"
	"os"
	"runtime/debug"
)

// Version and Revision are set at link time; "dev" otherwise.
var (
	Version  = "dev"
	Revision = ""
)

// String is the one-line version of a binary.
func String(name string) string {
	rev := Revision
	if rev == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					rev = s.Value
				}
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("%s %s (revision %s)", name, Version, rev)
}

// HandleFlags prints the version or a short help when the only argument is
// --version or --help, and reports whether it did, so main can return. Other
// arguments are left to the binary.
func HandleFlags(name, summary string) bool {
	if len(os.Args) != 2 {
		return false
	}
	switch os.Args[1] {
	case "--version", "-version", "version":
		fmt.Println(String(name))
		return true
	case "--help", "-help", "-h":
		fmt.Printf("%s: %s\n%s\n", name, summary, String(name))
		return true
	}
	return false
}
