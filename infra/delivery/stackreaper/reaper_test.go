package stackreaper

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func policy() Policy { return Policy{Now: now, DefaultReviewTTL: DefaultReviewTTL} }

func TestClassify(t *testing.T) {
	cases := map[string]Kind{
		"dev":                    KindDev,
		"dev-alice":              KindDev,
		"org/sluice/dev":         KindDev,
		"review-pr42":            KindReview,
		"org/sluice/review-pr7":  KindReview,
		"review-":                KindOther,
		"staging":                KindOther,
		"prod":                   KindOther,
		"org/sluice/prod":        KindOther,
		"development":            KindOther,
		"prod-review-pr1":        KindOther,
		"devops":                 KindOther,
		"org/sluice/staging-dev": KindOther,
	}
	for name, want := range cases {
		if got := Classify(name); got != want {
			t.Errorf("Classify(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestExpiry(t *testing.T) {
	cases := []struct {
		name    string
		stack   Stack
		destroy bool
		reason  string
	}{
		{
			name:    "dev idle past ttl",
			stack:   Stack{Name: "dev", LastUpdate: now.Add(-49 * time.Hour), Config: map[string]string{ConfigTTLHours: "48"}},
			destroy: true, reason: "idle 49h exceeds TTL 48h",
		},
		{
			name:   "dev idle within ttl",
			stack:  Stack{Name: "dev", LastUpdate: now.Add(-47 * time.Hour), Config: map[string]string{ConfigTTLHours: "48"}},
			reason: "within TTL 48h",
		},
		{
			name:   "exactly at ttl is kept",
			stack:  Stack{Name: "dev-x", LastUpdate: now.Add(-48 * time.Hour), Tags: map[string]string{TagTTLHours: "48"}},
			reason: "within TTL",
		},
		{
			name:   "dev without ttl is kept",
			stack:  Stack{Name: "dev", LastUpdate: now.Add(-1000 * time.Hour)},
			reason: "no TTL configured",
		},
		{
			name:    "review without ttl uses default",
			stack:   Stack{Name: "review-pr1", LastUpdate: now.Add(-73 * time.Hour)},
			destroy: true, reason: "exceeds TTL 72h",
		},
		{
			name:   "review within default",
			stack:  Stack{Name: "review-pr1", LastUpdate: now.Add(-71 * time.Hour)},
			reason: "within TTL 72h",
		},
		{
			name:    "ttl from tag",
			stack:   Stack{Name: "review-pr2", LastUpdate: now.Add(-5 * time.Hour), Tags: map[string]string{TagTTLHours: "4"}},
			destroy: true, reason: "idle 5h exceeds TTL 4h",
		},
		{
			name: "recent creation outweighs old update",
			stack: Stack{Name: "review-pr3", LastUpdate: now.Add(-100 * time.Hour),
				Tags: map[string]string{TagTTLHours: "24", TagCreatedAt: now.Add(-2 * time.Hour).Format(time.RFC3339)}},
			reason: "idle 2h within TTL 24h",
		},
		{
			name: "never updated uses creation time",
			stack: Stack{Name: "review-pr4",
				Tags: map[string]string{TagTTLHours: "24", TagCreatedAt: now.Add(-30 * time.Hour).Format(time.RFC3339)}},
			destroy: true, reason: "idle 30h exceeds TTL 24h",
		},
		{
			name:   "no time at all is kept",
			stack:  Stack{Name: "review-pr5", Tags: map[string]string{TagTTLHours: "1"}},
			reason: "age unknown",
		},
		{
			name:   "future update is not expired",
			stack:  Stack{Name: "dev", LastUpdate: now.Add(time.Hour), Config: map[string]string{ConfigTTLHours: "1"}},
			reason: "idle 0m within TTL 1h",
		},
		{
			name:   "update in progress is kept",
			stack:  Stack{Name: "dev", LastUpdate: now.Add(-100 * time.Hour), UpdateInProgress: true, Config: map[string]string{ConfigTTLHours: "1"}},
			reason: "update in progress",
		},
		{
			name: "tag ttl overrides copied config",
			stack: Stack{Name: "review-pr8", LastUpdate: now.Add(-3 * time.Hour),
				Config: map[string]string{ConfigTTLHours: "24"}, Tags: map[string]string{TagTTLHours: " 2 "}},
			destroy: true, reason: "idle 3h exceeds TTL 2h",
		},
		{
			name: "tag can lengthen the ttl too",
			stack: Stack{Name: "review-pr8", LastUpdate: now.Add(-3 * time.Hour),
				Config: map[string]string{ConfigTTLHours: "2"}, Tags: map[string]string{TagTTLHours: "24"}},
			reason: "within TTL 24h",
		},
		{
			name: "protection is never overridden by a tag",
			stack: Stack{Name: "review-pr8", LastUpdate: now.Add(-300 * time.Hour),
				Config: map[string]string{ConfigProtected: "true"}, Tags: map[string]string{TagProtected: "false"}},
			reason: "protected",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Evaluate(policy(), tc.stack)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if d.Destroy != tc.destroy {
				t.Fatalf("Destroy = %v (%s), want %v", d.Destroy, d.Reason, tc.destroy)
			}
			if !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("Reason = %q, want it to contain %q", d.Reason, tc.reason)
			}
		})
	}
}

func TestNoDefaultReviewTTL(t *testing.T) {
	p := Policy{Now: now}
	d, err := Evaluate(p, Stack{Name: "review-pr9", LastUpdate: now.Add(-10000 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Destroy {
		t.Fatalf("review stack without TTL and without a default was selected: %+v", d)
	}
}

// Long-lived and unknown stacks are never selected, however old and however
// configured, and their configuration is not even parsed.
func TestNeverTouch(t *testing.T) {
	ancient := now.Add(-100000 * time.Hour)
	everything := map[string]string{
		ConfigTTLHours: "1", ConfigCreatedAt: ancient.Format(time.RFC3339), ConfigProtected: "false",
	}
	tags := map[string]string{TagTTLHours: "1", TagProtected: "false"}
	for _, name := range []string{"prod", "staging", "org/sluice/prod", "org/sluice/staging", "production", "qa", "review", "my-dev"} {
		d, err := Evaluate(policy(), Stack{Name: name, LastUpdate: ancient, Config: everything, Tags: tags})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.Destroy {
			t.Fatalf("%s selected for destroy: %+v", name, d)
		}
		if !strings.Contains(d.Reason, "never torn down") {
			t.Fatalf("%s: reason %q", name, d.Reason)
		}
	}
	// Malformed configuration on a long-lived stack is not this tool's business.
	d, err := Evaluate(policy(), Stack{Name: "prod", Config: map[string]string{ConfigTTLHours: "soon"}})
	if err != nil || d.Destroy {
		t.Fatalf("prod with malformed ttl: %+v, %v", d, err)
	}
}

func TestProtected(t *testing.T) {
	old := now.Add(-1000 * time.Hour)
	for _, s := range []Stack{
		{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "1", ConfigProtected: "true"}},
		{Name: "review-pr1", LastUpdate: old, Tags: map[string]string{TagProtected: "TRUE"}},
		{Name: "dev-x", LastUpdate: old, Config: map[string]string{ConfigProtected: "1"}, Tags: map[string]string{TagTTLHours: "1"}},
	} {
		d, err := Evaluate(policy(), s)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if d.Destroy || !strings.Contains(d.Reason, "protected") {
			t.Fatalf("%s: %+v", s.Name, d)
		}
	}
	// Explicitly unprotected stacks follow the TTL.
	d, err := Evaluate(policy(), Stack{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "1", ConfigProtected: "false"}})
	if err != nil || !d.Destroy {
		t.Fatalf("unprotected expired dev: %+v, %v", d, err)
	}
}

func TestMalformed(t *testing.T) {
	old := now.Add(-1000 * time.Hour)
	cases := []struct {
		stack Stack
		want  string
	}{
		{Stack{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "two days"}}, `config sluice:ttlHours="two days"`},
		{Stack{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "0"}}, "between 1 and"},
		{Stack{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "-5"}}, "between 1 and"},
		{Stack{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "1.5"}}, "whole number"},
		{Stack{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "99999999"}}, "between 1 and"},
		{Stack{Name: "review-pr1", LastUpdate: old, Tags: map[string]string{TagTTLHours: ""}}, "tag sluice:ttl-hours"},
		{Stack{Name: "review-pr1", LastUpdate: old, Tags: map[string]string{TagCreatedAt: "yesterday"}}, "RFC 3339"},
		{Stack{Name: "review-pr1", LastUpdate: old, Tags: map[string]string{TagProtected: "maybe"}}, "true or false"},
		{Stack{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "2"}, Tags: map[string]string{TagTTLHours: "3h"}}, `tag sluice:ttl-hours="3h"`},
	}
	for _, tc := range cases {
		d, err := Evaluate(policy(), tc.stack)
		if err == nil {
			t.Fatalf("%+v: no error", tc.stack)
		}
		if d.Destroy {
			t.Fatalf("%+v: malformed stack selected", tc.stack)
		}
		var se *StackError
		if !errors.As(err, &se) || se.Stack != tc.stack.Name {
			t.Fatalf("error %v is not a StackError for %s", err, tc.stack.Name)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("error %q does not mention %q", err, tc.want)
		}
	}
	if _, err := Evaluate(policy(), Stack{Name: ""}); err == nil {
		t.Fatal("empty name accepted")
	}
}

func TestMakePlan(t *testing.T) {
	old := now.Add(-200 * time.Hour)
	stacks := []Stack{
		{Name: "review-pr2", LastUpdate: old},
		{Name: "prod", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "1"}},
		{Name: "dev", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "24"}},
		{Name: "review-pr1", LastUpdate: now.Add(-time.Hour)},
		{Name: "dev-bad", LastUpdate: old, Config: map[string]string{ConfigTTLHours: "x"}},
		{Name: "review-pr3", LastUpdate: old, Tags: map[string]string{TagCreatedAt: "nope"}},
		{Name: "staging", LastUpdate: old},
	}
	plan, err := MakePlan(policy(), stacks)
	if err == nil {
		t.Fatal("expected an error for malformed stacks")
	}
	for _, name := range []string{"dev-bad", "review-pr3"} {
		if !strings.Contains(err.Error(), "stack "+name+":") {
			t.Errorf("error %q does not list %s", err, name)
		}
	}
	var destroy []string
	for _, d := range plan.Destroy {
		destroy = append(destroy, d.Stack)
	}
	if got, want := strings.Join(destroy, ","), "dev,review-pr2"; got != want {
		t.Fatalf("destroy = %s, want %s", got, want)
	}
	if len(plan.Keep) != 5 {
		t.Fatalf("keep = %+v", plan.Keep)
	}
	for i := 1; i < len(plan.Keep); i++ {
		if plan.Keep[i-1].Stack > plan.Keep[i].Stack {
			t.Fatalf("keep not sorted: %+v", plan.Keep)
		}
	}

	// A clean set of stacks gives no error.
	if _, err := MakePlan(policy(), stacks[:4]); err != nil {
		t.Fatalf("clean plan: %v", err)
	}
	// The same stack twice is rejected rather than destroyed twice.
	_, err = MakePlan(policy(), []Stack{{Name: "dev"}, {Name: "dev"}})
	if err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("duplicate: %v", err)
	}
}
