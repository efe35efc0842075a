package config

import (
	"fmt"
	"strings"
)

// ProducerTypes are the kinds of producer principal a stack may list, with
// the principal type Azure RBAC records for each (a managed identity is a
// service principal to Entra ID).
var ProducerTypes = map[string]string{
	"ServicePrincipal": "ServicePrincipal",
	"ManagedIdentity":  "ServicePrincipal",
	"Group":            "Group",
}

// Producer is a principal outside the cluster allowed to send events.
type Producer struct {
	// Kind is the configured kind (a key of ProducerTypes).
	Kind string
	// ObjectID is the principal's Entra ID object id (for an app, its
	// service principal's object id, not the application id).
	ObjectID string
	// PrincipalType is the role assignment's principalType.
	PrincipalType string
}

// ParseProducer reads "<kind>:<object id>".
func ParseProducer(s string) (Producer, error) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok {
		return Producer{}, fmt.Errorf("%q is not <kind>:<object id>", s)
	}
	pt, known := ProducerTypes[kind]
	if !known {
		return Producer{}, fmt.Errorf("%q: kind %q is not one of ServicePrincipal, ManagedIdentity, Group", s, kind)
	}
	if !uuidPattern.MatchString(id) {
		return Producer{}, fmt.Errorf("%q: %q is not an object id (UUID)", s, id)
	}
	return Producer{Kind: kind, ObjectID: strings.ToLower(id), PrincipalType: pt}, nil
}

// Producers are the parsed ProducerPrincipals of a validated configuration.
func (e EventHubs) Producers() []Producer {
	out := make([]Producer, 0, len(e.ProducerPrincipals))
	for _, s := range e.ProducerPrincipals {
		if p, err := ParseProducer(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func (v *validator) producers(e EventHubs) {
	seen := map[string]bool{}
	for _, s := range e.ProducerPrincipals {
		p, err := ParseProducer(s)
		if err != nil {
			v.addf("sluice:eventHubsProducers: %v", err)
			continue
		}
		if seen[p.ObjectID] {
			v.addf("sluice:eventHubsProducers lists object id %s twice", p.ObjectID)
		}
		seen[p.ObjectID] = true
	}
}
