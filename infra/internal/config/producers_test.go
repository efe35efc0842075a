package config

import (
	"strings"
	"testing"
)

func TestProducerPrincipals(t *testing.T) {
	const id = "11111111-2222-3333-4444-555555555555"
	good := `["ServicePrincipal:` + id + `","Group:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","ManagedIdentity:99999999-8888-7777-6666-555555555555"]`
	c, err := load("staging", values(t, "staging", map[string]string{"eventHubsProducers": good}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.EventHubs.ProducerPrincipals) != 3 {
		t.Fatalf("producers %v", c.EventHubs.ProducerPrincipals)
	}
	for _, tc := range []struct{ value, want string }{
		{`["` + id + `"]`, "is not <kind>:<object id>"},
		{`["User:` + id + `"]`, `kind "User" is not one of`},
		{`["Group:admins"]`, `"admins" is not an object id`},
		{`["Group:` + id + `","ServicePrincipal:` + strings.ToUpper(id) + `"]`, "lists object id " + id + " twice"},
	} {
		_, err := load("staging", values(t, "staging", map[string]string{"eventHubsProducers": tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("eventHubsProducers %s: want an error containing %q, got %v", tc.value, tc.want, err)
		}
	}
}
