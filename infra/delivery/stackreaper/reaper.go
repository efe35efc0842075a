package stackreaper

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Configuration keys and stack tags the rules read.
const (
	ConfigTTLHours  = "sluice:ttlHours"
	TagTTLHours     = "sluice:ttl-hours"
	ConfigCreatedAt = "sluice:createdAt"
	TagCreatedAt    = "sluice:created-at"
	ConfigProtected = "sluice:protect"
	TagProtected    = "sluice:protected"
)

// DefaultReviewTTL is the time to live the stackreaper command gives review stacks
// that carry no TTL of their own.
const DefaultReviewTTL = 72 * time.Hour

// maxTTLHours bounds a configured TTL (one year) so a typo cannot overflow durations.
const maxTTLHours = 24 * 366

// Kind classifies a stack by its name.
type Kind string

// Stack kinds.
const (
	KindDev    Kind = "dev"
	KindReview Kind = "review"
	KindOther  Kind = "other"
)

// Stack is what the backend knows about one stack.
type Stack struct {
	// Name as `pulumi stack ls` prints it; it may be fully qualified.
	Name string
	// LastUpdate is the end of the last update; zero when the stack was never updated.
	LastUpdate time.Time
	// UpdateInProgress is true while an update runs.
	UpdateInProgress bool
	// Config holds the stack's plain configuration values by full key ("sluice:ttlHours").
	Config map[string]string
	// Tags holds the stack's tags.
	Tags map[string]string
}

// Policy holds the inputs of a decision that do not come from the stack.
type Policy struct {
	// Now is the time the decision is made at.
	Now time.Time
	// DefaultReviewTTL applies to review stacks without a TTL; zero means such a
	// stack is never selected.
	DefaultReviewTTL time.Duration
}

// Decision is the outcome for one stack.
type Decision struct {
	Stack   string
	Kind    Kind
	Destroy bool
	// Reason says in a few words why the stack is destroyed or kept.
	Reason string
	// TTL and Idle are set when the decision got as far as comparing them.
	TTL  time.Duration
	Idle time.Duration
}

// Plan lists the stacks to destroy and the stacks left alone, each sorted by name.
type Plan struct {
	Destroy []Decision
	Keep    []Decision
}

// StackError reports a stack whose configuration or tags cannot be understood.
type StackError struct {
	Stack string
	Err   error
}

func (e *StackError) Error() string {
	return fmt.Sprintf("stack %s: %v", e.Stack, e.Err)
}

func (e *StackError) Unwrap() error { return e.Err }

// ShortName returns the last segment of a possibly fully qualified stack name.
func ShortName(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// Classify returns the kind of a stack from its name.
func Classify(name string) Kind {
	short := ShortName(name)
	switch {
	case short == "dev" || strings.HasPrefix(short, "dev-"):
		return KindDev
	case strings.HasPrefix(short, "review-") && len(short) > len("review-"):
		return KindReview
	default:
		return KindOther
	}
}

// Evaluate applies the rules to one stack. A non-nil error means the stack's
// configuration is malformed; the returned decision then keeps the stack.
func Evaluate(p Policy, s Stack) (Decision, error) {
	d := Decision{Stack: s.Name, Kind: Classify(s.Name)}
	if strings.TrimSpace(s.Name) == "" || strings.HasSuffix(s.Name, "/") {
		d.Reason = "malformed stack name"
		return d, &StackError{Stack: fmt.Sprintf("%q", s.Name), Err: errors.New("empty stack name")}
	}
	if d.Kind == KindOther {
		d.Reason = "not a dev or review stack: never torn down"
		return d, nil
	}

	// Parse everything first so one run reports every malformed value at once.
	protected, perr := protectedFlag(s)
	ttl, hasTTL, terr := ttlOf(s)
	createdAt, cerr := createdAtOf(s)
	if err := errors.Join(perr, terr, cerr); err != nil {
		d.Reason = "malformed configuration: kept"
		return d, &StackError{Stack: s.Name, Err: err}
	}
	if protected {
		d.Reason = "protected: never torn down"
		return d, nil
	}
	if s.UpdateInProgress {
		d.Reason = "update in progress: kept"
		return d, nil
	}
	if !hasTTL {
		if d.Kind != KindReview || p.DefaultReviewTTL <= 0 {
			d.Reason = "no TTL configured: kept"
			return d, nil
		}
		ttl = p.DefaultReviewTTL
	}
	d.TTL = ttl

	last := s.LastUpdate
	if createdAt.After(last) {
		last = createdAt
	}
	if last.IsZero() {
		d.Reason = "no last update or creation time: age unknown, kept"
		return d, nil
	}
	idle := p.Now.Sub(last)
	if idle < 0 {
		idle = 0
	}
	d.Idle = idle
	if idle > ttl {
		d.Destroy = true
		d.Reason = fmt.Sprintf("idle %s exceeds TTL %s", roundHours(idle), roundHours(ttl))
		return d, nil
	}
	d.Reason = fmt.Sprintf("idle %s within TTL %s (expires %s)",
		roundHours(idle), roundHours(ttl), last.Add(ttl).UTC().Format(time.RFC3339))
	return d, nil
}

// MakePlan evaluates every stack. The returned error joins one StackError per
// malformed stack; the plan is complete either way and never selects those stacks.
func MakePlan(p Policy, stacks []Stack) (Plan, error) {
	var plan Plan
	var errs []error
	seen := make(map[string]bool, len(stacks))
	for _, s := range stacks {
		if seen[s.Name] {
			errs = append(errs, &StackError{Stack: s.Name, Err: errors.New("listed twice")})
			continue
		}
		seen[s.Name] = true
		d, err := Evaluate(p, s)
		if err != nil {
			errs = append(errs, err)
		}
		if d.Destroy {
			plan.Destroy = append(plan.Destroy, d)
		} else {
			plan.Keep = append(plan.Keep, d)
		}
	}
	sort.Slice(plan.Destroy, func(i, j int) bool { return plan.Destroy[i].Stack < plan.Destroy[j].Stack })
	sort.Slice(plan.Keep, func(i, j int) bool { return plan.Keep[i].Stack < plan.Keep[j].Stack })
	return plan, errors.Join(errs...)
}

// lookup returns a value set by tag or config and where it came from. The tag wins:
// it is set per stack in the backend, while a review stack's config is a copy of
// dev's.
func lookup(s Stack, configKey, tagKey string) (value, source string) {
	if v, ok := s.Tags[tagKey]; ok {
		return strings.TrimSpace(v), "tag " + tagKey
	}
	if v, ok := s.Config[configKey]; ok {
		return strings.TrimSpace(v), "config " + configKey
	}
	return "", ""
}

// protectedFlag is true when the tag or the config says so: unlike the other
// values, protection is never overridden, only added.
func protectedFlag(s Stack) (bool, error) {
	var errs []error
	protected := false
	for _, src := range []struct {
		values map[string]string
		key    string
		what   string
	}{{s.Tags, TagProtected, "tag"}, {s.Config, ConfigProtected, "config"}} {
		v, ok := src.values[src.key]
		if !ok {
			continue
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s=%q is not true or false", src.what, src.key, v))
			continue
		}
		protected = protected || b
	}
	return protected, errors.Join(errs...)
}

func ttlOf(s Stack) (time.Duration, bool, error) {
	v, src := lookup(s, ConfigTTLHours, TagTTLHours)
	if src == "" {
		return 0, false, nil
	}
	h, err := strconv.Atoi(v)
	if err != nil || h <= 0 || h > maxTTLHours {
		return 0, false, fmt.Errorf("%s=%q is not a whole number of hours between 1 and %d", src, v, maxTTLHours)
	}
	return time.Duration(h) * time.Hour, true, nil
}

func createdAtOf(s Stack) (time.Time, error) {
	v, src := lookup(s, ConfigCreatedAt, TagCreatedAt)
	if src == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s=%q is not an RFC 3339 time", src, v)
	}
	return t, nil
}

func roundHours(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%dm", int64(d.Round(time.Minute)/time.Minute))
	}
	return fmt.Sprintf("%dh", int64(d.Round(time.Hour)/time.Hour))
}
