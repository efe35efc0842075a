package platform

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/components/base"
)

// TestProducersMaySendToTheEventsHubOnly: each configured producer principal
// gets Azure Event Hubs Data Sender on the events hub, with its principal
// type, and no other role anywhere.
func TestProducersMaySendToTheEventsHubOnly(t *testing.T) {
	producers := map[string]string{ // object id -> principalType
		"11111111-2222-3333-4444-555555555555": "ServicePrincipal",
		"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee": "Group",
		"99999999-8888-7777-6666-555555555555": "ServicePrincipal",
	}
	value := `["ServicePrincipal:11111111-2222-3333-4444-555555555555","Group:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","ManagedIdentity:99999999-8888-7777-6666-555555555555"]`
	for _, stack := range stacks {
		r := runStack(t, stack, map[string]string{"eventHubsProducers": value})
		var events string
		for _, h := range r.all(tHub) {
			if str(h.Inputs, "eventHubName") == "events" {
				events = h.ID
			}
		}
		if events == "" {
			t.Fatalf("%s: no events hub", stack)
		}
		found := map[string]int{}
		for _, ra := range r.all(tRole) {
			id := str(ra.Inputs, "principalId")
			want, isProducer := producers[id]
			if !isProducer {
				continue
			}
			found[id]++
			if !strings.HasSuffix(str(ra.Inputs, "roleDefinitionId"), "/"+base.RoleEventHubsDataSender) {
				t.Errorf("%s: producer %s gets role %s, want Azure Event Hubs Data Sender only", stack, id, str(ra.Inputs, "roleDefinitionId"))
			}
			if scope := str(ra.Inputs, "scope"); scope != events {
				t.Errorf("%s: producer %s is granted on %s, want the events hub %s", stack, id, scope, events)
			}
			if pt := str(ra.Inputs, "principalType"); pt != want {
				t.Errorf("%s: producer %s has principalType %q, want %q", stack, id, pt, want)
			}
		}
		for id := range producers {
			if found[id] != 1 {
				t.Errorf("%s: producer %s has %d role assignments, want 1", stack, id, found[id])
			}
		}
	}
}
