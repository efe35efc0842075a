package devservices

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseJavaMajor(t *testing.T) {
	cases := []struct {
		out  string
		want int
	}{
		{`openjdk version "17.0.15" 2025-04-15` + "\nOpenJDK Runtime Environment", 17},
		{`java version "1.8.0_392"`, 8},
		{`openjdk version "11.0.22" 2024-01-16`, 11},
		{`openjdk version "21" 2023-09-19`, 21},
		{`openjdk version "17-ea" 2021-03-16`, 17},
		{`Picked up JAVA_TOOL_OPTIONS: -Xss1m` + "\n" + `openjdk version "22.0.1" 2024-04-16`, 22},
	}
	for _, c := range cases {
		got, err := parseJavaMajor(c.out)
		if err != nil || got != c.want {
			t.Errorf("parseJavaMajor(%q) = %d, %v; want %d", c.out, got, err, c.want)
		}
	}
	if _, err := parseJavaMajor("bash: java: command not found"); err == nil {
		t.Error("parsed a version out of an error message")
	}
}

// fakeFS is a fake machine for the prerequisite checks.
type fakeFS struct {
	files    map[string]bool
	path     map[string]string // program -> path on PATH
	javaOut  string
	euid     int
	ran      []string
	runErr   error
	policyRC string
}

type fakeInfo struct{ name string }

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return 0o755 }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

func (f *fakeFS) system() *system {
	return &system{
		lookPath: func(name string) (string, error) {
			if p, ok := f.path[name]; ok {
				return p, nil
			}
			return "", errors.New("not found")
		},
		glob: func(pattern string) ([]string, error) {
			var out []string
			for p := range f.files {
				if ok, _ := filepath.Match(pattern, p); ok {
					out = append(out, p)
				}
				if d := filepath.Dir(p); d != p {
					if ok, _ := filepath.Match(pattern, d); ok && !slices.Contains(out, d) {
						out = append(out, d)
					}
				}
			}
			return out, nil
		},
		getenv: func(string) string { return "" },
		euid:   func() int { return f.euid },
		output: func(_ context.Context, name string, args ...string) ([]byte, error) {
			return []byte(f.javaOut), nil
		},
		run: func(_ context.Context, _ []string, name string, args ...string) error {
			f.ran = append(f.ran, name+" "+strings.Join(args, " "))
			if f.runErr != nil {
				return f.runErr
			}
			// Installing makes the binaries appear.
			for _, a := range args {
				switch a {
				case "postgresql":
					f.files["/usr/lib/postgresql/15/bin/initdb"] = true
					f.files["/usr/lib/postgresql/15/bin/postgres"] = true
				case "redis-server":
					f.path["redis-server"] = "/usr/bin/redis-server"
				}
			}
			return nil
		},
		stat: func(p string) (os.FileInfo, error) {
			if f.files[p] {
				return fakeInfo{filepath.Base(p)}, nil
			}
			return nil, os.ErrNotExist
		},
		policyRC: f.policyRC,
	}
}

func newFakeMachine(t *testing.T) *fakeFS {
	return &fakeFS{
		files: map[string]bool{
			"/usr/lib/postgresql/13/bin/initdb":   true,
			"/usr/lib/postgresql/13/bin/postgres": true,
			"/usr/lib/postgresql/15/bin/initdb":   true,
			"/usr/lib/postgresql/15/bin/postgres": true,
			"/usr/lib/postgresql/16/bin/psql":     true, // client only: not a server
		},
		path: map[string]string{
			"java": "/usr/bin/java", "mvn": "/usr/bin/mvn", "redis-server": "/usr/bin/redis-server", "apt-get": "/usr/bin/apt-get",
		},
		javaOut:  `openjdk version "17.0.15" 2025-04-15`,
		euid:     1000,
		policyRC: filepath.Join(t.TempDir(), "policy-rc.d"),
	}
}

func managerWith(t *testing.T, f *fakeFS) *Manager {
	t.Helper()
	m, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m.sys = f.system()
	m.SetOutput(io.Discard)
	return m
}

func TestPrereqsAllPresent(t *testing.T) {
	f := newFakeMachine(t)
	m := managerWith(t, f)
	tl, err := m.checkPrereqs(context.Background(), AllEngines())
	if err != nil {
		t.Fatal(err)
	}
	if tl.java != "/usr/bin/java" || tl.javaMajor != 17 || tl.mvn != "/usr/bin/mvn" {
		t.Errorf("java/mvn resolved to %+v", tl)
	}
	if tl.pgBin != "/usr/lib/postgresql/15/bin" {
		t.Errorf("postgres bin %q, want the newest server version 15", tl.pgBin)
	}
	if tl.redisServer != "/usr/bin/redis-server" {
		t.Errorf("redis-server %q", tl.redisServer)
	}
	if len(f.ran) != 0 {
		t.Errorf("ran %v with everything present", f.ran)
	}
}

func TestPrereqsReportEverythingMissingAtOnce(t *testing.T) {
	f := newFakeMachine(t)
	delete(f.path, "java")
	delete(f.path, "mvn")
	delete(f.path, "redis-server")
	f.files = map[string]bool{}
	m := managerWith(t, f)
	_, err := m.checkPrereqs(context.Background(), AllEngines())
	var pe *prereqError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a prereqError", err)
	}
	msg := err.Error()
	for _, want := range []string{"java not found", "mvn not found", "postgresql and redis-server not installed", "sudo apt-get install -y --no-install-recommends postgresql redis-server"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if len(f.ran) != 0 {
		t.Errorf("ran %v as non-root", f.ran)
	}
}

func TestPrereqsOldJava(t *testing.T) {
	f := newFakeMachine(t)
	f.javaOut = `openjdk version "11.0.22" 2024-01-16`
	m := managerWith(t, f)
	_, err := m.checkPrereqs(context.Background(), []Engine{Kafka})
	if err == nil || !strings.Contains(err.Error(), "Java 11") || !strings.Contains(err.Error(), "need Java 17") {
		t.Fatalf("err = %v, want a Java 17 message", err)
	}
}

func TestPrereqsOnlyWhatTheEnginesNeed(t *testing.T) {
	f := newFakeMachine(t)
	delete(f.path, "java")
	delete(f.path, "mvn")
	m := managerWith(t, f)
	if _, err := m.checkPrereqs(context.Background(), []Engine{Redis, Postgres}); err != nil {
		t.Fatalf("redis and postgres need no java or mvn: %v", err)
	}
	f = newFakeMachine(t)
	f.files = map[string]bool{}
	m = managerWith(t, f)
	if _, err := m.checkPrereqs(context.Background(), []Engine{Kafka, Cassandra}); err != nil {
		t.Fatalf("kafka and cassandra need no postgres: %v", err)
	}
}

func TestPrereqsInstallAsRoot(t *testing.T) {
	f := newFakeMachine(t)
	f.euid = 0
	f.files = map[string]bool{}
	delete(f.path, "redis-server")
	m := managerWith(t, f)
	tl, err := m.checkPrereqs(context.Background(), []Engine{Postgres, Redis})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apt-get update", "apt-get install -y --no-install-recommends postgresql redis-server"}
	if strings.Join(f.ran, "|") != strings.Join(want, "|") {
		t.Fatalf("ran %q, want %q", f.ran, want)
	}
	if tl.pgBin != "/usr/lib/postgresql/15/bin" || tl.redisServer != "/usr/bin/redis-server" {
		t.Errorf("after install: %+v", tl)
	}
	if _, err := os.Stat(f.policyRC); !os.IsNotExist(err) {
		t.Error("the temporary policy-rc.d was left behind")
	}
	// A second install in the same manager does not update again.
	delete(f.path, "redis-server")
	f.ran = nil
	if _, err := m.checkPrereqs(context.Background(), []Engine{Redis}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.ran, "|") != "apt-get install -y --no-install-recommends redis-server" {
		t.Errorf("second install ran %q", f.ran)
	}
}

func TestPrereqsInstallFailureIsReported(t *testing.T) {
	f := newFakeMachine(t)
	f.euid = 0
	delete(f.path, "redis-server")
	f.runErr = errors.New("network unreachable")
	m := managerWith(t, f)
	_, err := m.checkPrereqs(context.Background(), []Engine{Redis})
	if err == nil || !strings.Contains(err.Error(), "network unreachable") {
		t.Fatalf("err = %v", err)
	}
}

func TestPrereqsRootDoesNotInstallWhenJavaMissing(t *testing.T) {
	f := newFakeMachine(t)
	f.euid = 0
	delete(f.path, "java")
	delete(f.path, "redis-server")
	m := managerWith(t, f)
	_, err := m.checkPrereqs(context.Background(), AllEngines())
	if err == nil || !strings.Contains(err.Error(), "java not found") || !strings.Contains(err.Error(), "redis-server not installed") {
		t.Fatalf("err = %v", err)
	}
	if len(f.ran) != 0 {
		t.Errorf("installed %v although another prerequisite was missing", f.ran)
	}
}
