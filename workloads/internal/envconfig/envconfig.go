package envconfig

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Reader collects problems while a config struct is filled in. The zero
// value is not usable: call New.
type Reader struct {
	lookup   func(string) (string, bool)
	problems []string
}

// New reads from the process environment.
func New() *Reader { return NewFrom(os.LookupEnv) }

// NewFrom reads through lookup, which tests use to supply a fixed environment.
func NewFrom(lookup func(string) (string, bool)) *Reader {
	return &Reader{lookup: lookup}
}

// FromMap is a lookup over a map, for tests and tools.
func FromMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func (r *Reader) get(key string) (string, bool) {
	v, ok := r.lookup(key)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// Problem records a problem found by the caller's own cross-field checks.
func (r *Reader) Problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// String returns the variable, or def when it is unset or empty.
func (r *Reader) String(key, def string) string {
	if v, ok := r.get(key); ok {
		return v
	}
	return def
}

// Required returns the variable and records a problem when it is unset.
func (r *Reader) Required(key string) string {
	v, ok := r.get(key)
	if !ok {
		r.problems = append(r.problems, key+" is required")
	}
	return v
}

// List returns a comma-separated variable as a slice, or def.
func (r *Reader) List(key string, def []string) []string {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Int returns an integer variable within [lo, hi], or def.
func (r *Reader) Int(key string, def, lo, hi int) int {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q must be an integer in [%d, %d]", key, v, lo, hi))
		return def
	}
	return n
}

// Float returns a number variable within [lo, hi], or def.
func (r *Reader) Float(key string, def, lo, hi float64) float64 {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q must be a number in [%g, %g]", key, v, lo, hi))
		return def
	}
	return f
}

// Bool returns a boolean variable (1/0, true/false, yes/no), or def.
func (r *Reader) Bool(key string, def bool) bool {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	r.problems = append(r.problems, fmt.Sprintf("%s=%q must be true or false", key, v))
	return def
}

// Duration returns a Go duration variable (such as "30s") within [lo, hi], or def.
func (r *Reader) Duration(key string, def, lo, hi time.Duration) time.Duration {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q must be a duration in [%s, %s]", key, v, lo, hi))
		return def
	}
	return d
}

// OneOf returns a variable that must be one of allowed, or def.
func (r *Reader) OneOf(key, def string, allowed ...string) string {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.problems = append(r.problems, fmt.Sprintf("%s=%q must be one of %s", key, v, strings.Join(allowed, ", ")))
	return def
}

// Problems returns the problems recorded so far, one message each, in the
// order they were found.
func (r *Reader) Problems() []string { return append([]string(nil), r.problems...) }

// ErrInvalidConfig is wrapped by the error Err returns.
var ErrInvalidConfig = errors.New("invalid configuration")

// Err returns every recorded problem in one error, or nil.
func (r *Reader) Err() error {
	if len(r.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(r.problems, "; "))
}
