package devservices

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// MinJavaMajor is the oldest Java the JVM engines run on.
const MinJavaMajor = 17

// system is what the prerequisite checks ask of the machine; tests replace it.
type system struct {
	lookPath func(string) (string, error)
	glob     func(string) ([]string, error)
	getenv   func(string) string
	euid     func() int
	// output runs a command and returns its combined output.
	output func(ctx context.Context, name string, args ...string) ([]byte, error)
	// run runs a command with its output going to the progress writer.
	run  func(ctx context.Context, env []string, name string, args ...string) error
	stat func(string) (os.FileInfo, error)
	// policyRC is Debian's hook that tells maintainer scripts whether they
	// may start services.
	policyRC string
}

func realSystem() *system {
	return &system{
		lookPath: exec.LookPath,
		glob:     filepath.Glob,
		getenv:   os.Getenv,
		euid:     os.Geteuid,
		output: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, name, args...).CombinedOutput()
		},
		stat:     os.Stat,
		policyRC: "/usr/sbin/policy-rc.d",
	}
}

// tools are the resolved programs the engines need.
type tools struct {
	java        string
	javaMajor   int
	mvn         string
	pgBin       string // directory holding initdb and postgres
	redisServer string
}

// prereqError lists every missing prerequisite with its fix, in one message.
type prereqError struct{ problems []string }

func (e *prereqError) Error() string {
	var b strings.Builder
	b.WriteString("missing prerequisites:")
	for _, p := range e.problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

var javaVersionRE = regexp.MustCompile(`version "([0-9]+)(?:\.([0-9]+))?[^"]*"`)

// parseJavaMajor reads the major version from `java -version` output:
// "1.8.0_392" is 8, "17.0.15" is 17, "21" is 21.
func parseJavaMajor(out string) (int, error) {
	m := javaVersionRE.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no version in java -version output %q", firstLine(out))
	}
	major, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, fmt.Errorf("parse java version %q: %w", m[0], err)
	}
	if major == 1 && m[2] != "" {
		minor, err := strconv.Atoi(m[2])
		if err != nil {
			return 0, fmt.Errorf("parse java version %q: %w", m[0], err)
		}
		return minor, nil
	}
	return major, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func (s *system) findJava() (string, error) {
	if home := s.getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := s.stat(p); err == nil {
			return p, nil
		}
	}
	return s.lookPath("java")
}

// findPostgresBin returns the newest /usr/lib/postgresql/<v>/bin holding both
// initdb and postgres, else the directory of initdb on PATH when postgres is
// beside it.
func (s *system) findPostgresBin() (string, bool) {
	dirs, _ := s.glob("/usr/lib/postgresql/*/bin") // a malformed pattern is impossible here
	type cand struct {
		dir string
		ver float64
	}
	var cands []cand
	for _, d := range dirs {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		if err != nil {
			continue
		}
		if s.hasFile(filepath.Join(d, "initdb")) && s.hasFile(filepath.Join(d, "postgres")) {
			cands = append(cands, cand{d, v})
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].ver > cands[j].ver })
	if len(cands) > 0 {
		return cands[0].dir, true
	}
	if p, err := s.lookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if s.hasFile(filepath.Join(dir, "postgres")) {
			return dir, true
		}
	}
	return "", false
}

func (s *system) hasFile(p string) bool {
	info, err := s.stat(p)
	return err == nil && !info.IsDir()
}

func (s *system) findRedis() (string, bool) {
	p, err := s.lookPath("redis-server")
	if err != nil {
		return "", false
	}
	return p, true
}

func needsJVM(engines []Engine) bool {
	for _, e := range engines {
		if e == Kafka || e == Cassandra || e == Spark {
			return true
		}
	}
	return false
}

func contains(engines []Engine, e Engine) bool {
	for _, x := range engines {
		if x == e {
			return true
		}
	}
	return false
}

// checkPrereqs resolves the programs the engines need. Missing PostgreSQL or
// Redis binaries are installed with apt-get when running as root; anything
// else missing is reported in one error that names each fix.
func (m *Manager) checkPrereqs(ctx context.Context, engines []Engine) (tools, error) {
	var t tools
	var problems []string
	s := m.sys
	if needsJVM(engines) {
		java, err := s.findJava()
		if err != nil {
			problems = append(problems, "java not found (JAVA_HOME/bin/java or PATH): Kafka and Cassandra need a Java 17 runtime; "+
				"install one (Debian: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME")
		} else {
			out, err := s.output(ctx, java, "-version")
			major, perr := parseJavaMajor(string(out))
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s -version failed (%v): fix the Java install or set JAVA_HOME to a Java 17 runtime", java, err))
			case perr != nil:
				problems = append(problems, fmt.Sprintf("cannot tell the version of %s (%v): set JAVA_HOME to a Java 17 runtime", java, perr))
			case major < MinJavaMajor:
				problems = append(problems, fmt.Sprintf("%s is Java %d; Kafka 3.9 and Cassandra 5.0 here need Java %d: install openjdk-17-jre-headless and set JAVA_HOME to it",
					java, major, MinJavaMajor))
			default:
				t.java, t.javaMajor = java, major
			}
		}
		mvn, err := s.lookPath("mvn")
		if err != nil {
			problems = append(problems, "mvn not found on PATH: the Kafka and Cassandra jars are fetched from Maven Central with Maven 3.8+; "+
				"install it (Debian: apt-get install -y maven)")
		} else {
			t.mvn = mvn
		}
	}

	var pkgs []string
	if contains(engines, Postgres) {
		if dir, ok := s.findPostgresBin(); ok {
			t.pgBin = dir
		} else {
			pkgs = append(pkgs, "postgresql")
		}
	}
	if contains(engines, Redis) {
		if p, ok := s.findRedis(); ok {
			t.redisServer = p
		} else {
			pkgs = append(pkgs, "redis-server")
		}
	}
	if len(pkgs) > 0 {
		switch {
		case s.euid() != 0:
			problems = append(problems, fmt.Sprintf("%s not installed and not running as root, so they cannot be installed here: "+
				"run `sudo apt-get install -y --no-install-recommends %s` (devservices runs its own instances on its own ports, not the packages' services)",
				strings.Join(pkgs, " and "), strings.Join(pkgs, " ")))
		case len(problems) > 0:
			// Report everything at once rather than install half-way.
			problems = append(problems, fmt.Sprintf("%s not installed (would be installed with apt-get once the problems above are fixed)", strings.Join(pkgs, " and ")))
		default:
			if err := m.aptInstall(ctx, pkgs); err != nil {
				return t, err
			}
			if slices.Contains(pkgs, "postgresql") {
				dir, ok := s.findPostgresBin()
				if !ok {
					return t, errors.New("postgresql installed but initdb/postgres not found under /usr/lib/postgresql/*/bin")
				}
				t.pgBin = dir
			}
			if slices.Contains(pkgs, "redis-server") {
				p, ok := s.findRedis()
				if !ok {
					return t, errors.New("redis-server installed but not found on PATH")
				}
				t.redisServer = p
			}
		}
	}
	if len(problems) > 0 {
		return t, &prereqError{problems: problems}
	}
	return t, nil
}

func (m *Manager) aptInstall(ctx context.Context, pkgs []string) error {
	s := m.sys
	if _, err := s.lookPath("apt-get"); err != nil {
		return &prereqError{problems: []string{fmt.Sprintf("%s missing and apt-get not found: install them with the system's package manager", strings.Join(pkgs, " and "))}}
	}
	// While we install, Debian's policy-rc.d hook forbids the packages from
	// starting their own services: we run our own instances on our own ports.
	if _, err := s.stat(s.policyRC); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(s.policyRC, []byte("#!/bin/sh\n# written by devservices while installing packages\nexit 101\n"), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", s.policyRC, err)
		}
		defer os.Remove(s.policyRC)
	}
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if !m.aptUpdated {
		m.progressf("", "installing %s: apt-get update…", strings.Join(pkgs, ", "))
		if err := s.run(ctx, env, "apt-get", "update"); err != nil {
			return fmt.Errorf("apt-get update: %w", err)
		}
		m.aptUpdated = true
	}
	m.progressf("", "installing %s: apt-get install…", strings.Join(pkgs, ", "))
	args := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	if err := s.run(ctx, env, "apt-get", args...); err != nil {
		return fmt.Errorf("apt-get install %s: %w", strings.Join(pkgs, " "), err)
	}
	return nil
}
