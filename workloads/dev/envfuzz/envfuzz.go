package envfuzz

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

// Encode writes env as a fuzz input: KEY=VALUE lines sorted by key.
func Encode(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + env[k] + "\n")
	}
	return b.String()
}

// Decode reads a fuzz input as an environment: a line without "=" is
// ignored, a later line wins over an earlier one of the same key.
func Decode(in string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(in, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" {
			env[k] = v
		}
	}
	return env
}

// Loader is a config loader over an envconfig.Reader.
type Loader[C any] func(*envconfig.Reader) (C, error)

// Fuzz adds seeds (environments) to f's corpus and checks load on every
// input with Check.
func Fuzz[C any](f *testing.F, seeds []map[string]string, load Loader[C], valid func(C) error) {
	for _, s := range seeds {
		f.Add(Encode(s))
	}
	f.Fuzz(func(t *testing.T, in string) { Check(t, Decode(in), load, valid) })
}

// Check loads env with load and fails t when the loader breaks the
// contract of the package doc; valid checks an accepted config.
func Check[C any](t testing.TB, env map[string]string, load Loader[C], valid func(C) error) {
	t.Helper()
	c, err, problems, read := run(env, load)
	_, again, _, readAgain := run(env, load)
	if errText(err) != errText(again) || !reflect.DeepEqual(read, readAgain) {
		t.Fatalf("the same environment loaded twice differently: %v, then %v", err, again)
	}
	names := func(msg string) bool {
		for k := range read {
			if strings.Contains(msg, k) {
				return true
			}
		}
		return false
	}
	for _, p := range problems {
		if !names(p) {
			t.Errorf("problem %q names no variable the loader read (%s)", p, keys(read))
		}
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("problem %q is missing from the loader's error %v", p, err)
		}
	}
	if err != nil {
		if err.Error() == "" || !names(err.Error()) {
			t.Errorf("error %q names no variable the loader read (%s)", err, keys(read))
		}
		return
	}
	if verr := valid(c); verr != nil {
		t.Errorf("loader accepted an invalid config: %v\nenvironment: %q", verr, env)
	}
}

func run[C any](env map[string]string, load Loader[C]) (C, error, []string, map[string]bool) {
	read := map[string]bool{}
	r := envconfig.NewFrom(func(k string) (string, bool) {
		read[k] = true
		v, ok := env[k]
		return v, ok
	})
	c, err := load(r)
	return c, err, r.Problems(), read
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func keys(m map[string]bool) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Checks joins the failures of checks: each entry is a condition and what
// it means when it does not hold.
type Checks []error

// Want records msg when ok is false.
func (cs *Checks) Want(ok bool, format string, args ...any) {
	if !ok {
		*cs = append(*cs, fmt.Errorf(format, args...))
	}
}

// Add records err when it is not nil.
func (cs *Checks) Add(err error) {
	if err != nil {
		*cs = append(*cs, err)
	}
}

// Err is every failed check in one error, or nil.
func (cs Checks) Err() error { return errors.Join(cs...) }
