package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

var update = flag.Bool("update", false, "rewrite infra/testdata/plan-<stack>.golden from the current program")

func TestGoldenPlans(t *testing.T) {
	root := roottest.Root(t)
	for _, stack := range []string{"dev", "staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			m, err := Run(root, stack)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := Render(&got, stack, m.Resources()); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got.String(), mocks.KeyMarker) {
				t.Fatal("the plan shows an account key")
			}
			path := filepath.Join(root, "infra", "testdata", "plan-"+stack+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (create it with: go test ./infra/internal/plan -update): %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("the %s plan differs from %s; if the change is intended, run `go test ./infra/internal/plan -update` and commit the diff.\n%s",
					stack, path, firstDifference(string(want), got.String()))
			}
		})
	}
}

// firstDifference shows the first line where two texts differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  golden: " + wl + "\n  now:    " + gl
		}
	}
	return "(no line differs)"
}

func TestRenderJSON(t *testing.T) {
	root := roottest.Root(t)
	m, err := Run(root, "prod")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderJSON(&buf, m.Resources()); err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	if err := json.Unmarshal(buf.Bytes(), &entries); err != nil {
		t.Fatalf("plan JSON does not parse: %v", err)
	}
	if len(entries) != len(m.Resources()) {
		t.Errorf("%d entries for %d resources", len(entries), len(m.Resources()))
	}
	secrets := 0
	for _, e := range entries {
		if e.Type == "azure-native:keyvault:Secret" {
			props, _ := e.Inputs["properties"].(map[string]any)
			if props["value"] != "[secret]" {
				t.Errorf("secret value rendered as %v", props["value"])
			}
			secrets++
		}
		if e.Type != "pulumi:pulumi:Stack" && e.Parent == "" {
			t.Errorf("%s has no parent", e.Name)
		}
	}
	// prod's: the Cosmos key and the deploy runner's GitHub App.
	if want := len(m.OfType("azure-native:keyvault:Secret")); secrets != want || want < 2 ||
		strings.Contains(buf.String(), mocks.KeyMarker) || strings.Contains(buf.String(), "PRIVATE KEY") {
		t.Errorf("want every secret masked (%d of %d) and no key in clear", secrets, want)
	}
}

func TestRunRejectsUnknownStack(t *testing.T) {
	root := roottest.Root(t)
	if _, err := Run(root, "no-such-stack"); err == nil {
		t.Error("planning a stack without a stack file succeeded")
	}
}

// Long strings show as size and digest in the text plan, whole in JSON.
func TestLongValuesShowAsDigests(t *testing.T) {
	long := strings.Repeat("a", LongValue)
	if got := quote(long); !strings.HasPrefix(got, "<1024 bytes, sha256 ") || quote(long+"b") == got || strings.Contains(got, "aaaa") {
		t.Fatalf("quote(long) = %q", got)
	}
	if got := quote("short"); got != `"short"` {
		t.Fatalf("quote(short) = %q", got)
	}
}
