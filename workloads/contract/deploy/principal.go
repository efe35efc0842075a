package deploy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Principal is an Entra ID principal that gets a PostgreSQL role.
type Principal struct {
	// Name is the role name: the display name of the identity, group or
	// user (a managed identity's resource name).
	Name string `json:"name"`
	// ObjectID is the principal's Entra ID object id.
	ObjectID string `json:"objectId"`
	// Type is "service" (managed identity, application), "group" or
	// "user", as pgaadauth_create_principal_with_oid spells it.
	Type string `json:"type"`
}

var (
	uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// A role name: what Entra ID display names of identities look like,
	// at most 63 bytes (NAMEDATALEN). Quoting makes any name safe in SQL;
	// the pattern keeps out names Azure would never give an identity.
	rolePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,62}$`)
	// principalTypes are pgaadauth_create_principal_with_oid's object types.
	principalTypes = []string{"service", "group", "user"}
)

// Validate checks one principal.
func (p Principal) Validate() error {
	if !rolePattern.MatchString(p.Name) {
		return fmt.Errorf("principal %q: the name must be 1 to 63 letters, digits, spaces or ._@- starting with a letter or digit", p.Name)
	}
	if !uuidPattern.MatchString(p.ObjectID) {
		return fmt.Errorf("principal %s: object id %q is not a UUID", p.Name, p.ObjectID)
	}
	for _, t := range principalTypes {
		if p.Type == t {
			return nil
		}
	}
	return fmt.Errorf("principal %s: type %q is not one of %s", p.Name, p.Type, strings.Join(principalTypes, ", "))
}

// ParseReportReaders reads the JSON list of report readers
// (EnvPostgresReportReaders); empty text is no reader.
func ParseReportReaders(text string) ([]Principal, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var out []Principal
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, fmt.Errorf("report readers: want a JSON list of {name, objectId, type}: %w", err)
	}
	return out, nil
}

// EncodeReportReaders is the value of EnvPostgresReportReaders for readers.
func EncodeReportReaders(readers []Principal) (string, error) {
	if len(readers) == 0 {
		return "", nil
	}
	b, err := json.Marshal(readers)
	if err != nil {
		return "", fmt.Errorf("report readers: %w", err)
	}
	return string(b), nil
}
