package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Every Env constant is named after its value, so a reader of either side
// finds one from the other: KAFKA_DLQ_TOPIC is EnvKafkaDLQTopic.
func TestEnvConstantsAreNamedAfterTheirValue(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "env.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	valid := regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)
	seen := map[string]string{}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				if !valid.MatchString(v) {
					t.Errorf("%s = %q is not an environment variable name", name.Name, v)
				}
				if want := "Env" + strings.ReplaceAll(camel(v), "_", ""); !strings.EqualFold(want, name.Name) {
					t.Errorf("%s = %q: want the name %s", name.Name, v, want)
				}
				if other, dup := seen[v]; dup {
					t.Errorf("%q is both %s and %s", v, other, name.Name)
				}
				seen[v] = name.Name
				n++
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d variables found in env.go", n)
	}
}

func camel(v string) string {
	parts := strings.Split(strings.ToLower(v), "_")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "")
}

func TestIdentities(t *testing.T) {
	for _, w := range Images() {
		sa := ServiceAccount(w)
		if !slices.Contains(ServiceAccounts(), sa) {
			t.Errorf("image %s runs as %q, which is not a service account", w, sa)
		}
	}
	if ServiceAccount(Migrate) != Enrich {
		t.Errorf("migrate runs as %q, want enrich (it owns the PostgreSQL schema)", ServiceAccount(Migrate))
	}
	if ServiceAccount(Simulator) != "" {
		t.Error("the simulator does not deploy, so it has no identity")
	}
	if DefaultHTTPAddr != ":8080" {
		t.Errorf("DefaultHTTPAddr = %q", DefaultHTTPAddr)
	}
}

// Only the workloads that write to Cassandra get the read-write key.
func TestCassandraReadOnly(t *testing.T) {
	for w, want := range map[string]bool{Ingest: false, Changefeed: false, API: true, Enrich: true, Migrate: false} {
		if got := CassandraReadOnly(w); got != want {
			t.Errorf("CassandraReadOnly(%s) = %v, want %v", w, got, want)
		}
	}
}
