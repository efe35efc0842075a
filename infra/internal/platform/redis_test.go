package platform

import (
	"regexp"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// accessAssignmentName is the REST spec's pattern of an Azure Managed Redis
// access policy assignment name (Microsoft.Cache/redisEnterprise/databases/
// accessPolicyAssignments).
var accessAssignmentName = regexp.MustCompile(`^[A-Za-z0-9]{1,60}$`)

// TestRedisAccessAssignmentNames checks the name each access policy
// assignment reaches Azure with. azure-native names a child resource after
// its logical name when no name is set, so the mocks' "name" output is what
// Azure would see.
func TestRedisAccessAssignmentNames(t *testing.T) {
	for _, stack := range stacks {
		for _, kind := range []struct {
			overrides map[string]string
			token     string
			scope     string
		}{
			{nil, tRedisAccess, "parentResourcePath"},
			{map[string]string{"redisKind": "classic", "redisSku": "Premium", "redisCapacity": "1"}, tClassicAccess, "cacheName"},
		} {
			r := runStack(t, stack, kind.overrides)
			list := r.all(kind.token)
			if len(list) == 0 {
				t.Fatalf("%s: no %s", stack, kind.token)
			}
			seen := map[string]string{}
			for _, a := range list {
				name := mocks.String(a.Outputs, "name")
				if str(a.Inputs, "accessPolicyAssignmentName") == "" && str(a.Inputs, "resourceName") == "" {
					t.Errorf("%s: %s has no explicit name (Azure would get %q)", stack, a.Name, name)
				}
				if !accessAssignmentName.MatchString(name) {
					t.Errorf("%s: %s is named %q, which does not match %s", stack, a.Name, name, accessAssignmentName)
				}
				key := str(a.Inputs, kind.scope) + "/" + name
				if other, dup := seen[key]; dup {
					t.Errorf("%s: %s and %s share the name %q", stack, a.Name, other, name)
				}
				seen[key] = a.Name
			}
		}
	}
}
