package config

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// ParseReportReader reads one entry of sluice:postgresReportReaders,
// "<type>:<object id>:<role name>": type service, group or user (as
// pgaadauth_create_principal_with_oid spells it), the principal's Entra ID
// object id, and the PostgreSQL role name it signs in with (a group's or
// an application's display name, a user's principal name).
func ParseReportReader(s string) (deploy.Principal, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return deploy.Principal{}, fmt.Errorf("%q is not <service|group|user>:<object id>:<role name>", s)
	}
	p := deploy.Principal{Type: parts[0], ObjectID: strings.ToLower(parts[1]), Name: parts[2]}
	if err := p.Validate(); err != nil {
		return deploy.Principal{}, err
	}
	return p, nil
}

// ReportReaders are the parsed readers of a validated configuration.
func (p Postgres) ReportReaders() []deploy.Principal {
	out := make([]deploy.Principal, 0, len(p.ReportReaderPrincipals))
	for _, s := range p.ReportReaderPrincipals {
		if r, err := ParseReportReader(s); err == nil {
			out = append(out, r)
		}
	}
	return out
}

func (v *validator) reportReaders(p Postgres) {
	seen := map[string]bool{}
	for _, s := range p.ReportReaderPrincipals {
		r, err := ParseReportReader(s)
		if err != nil {
			v.addf("sluice:postgresReportReaders: %v", err)
			continue
		}
		if seen[r.ObjectID] || seen["name:"+r.Name] {
			v.addf("sluice:postgresReportReaders lists %s twice", s)
		}
		seen[r.ObjectID], seen["name:"+r.Name] = true, true
	}
}
