package contract

// Environment of the PostgreSQL principals step (`migrate -principals`),
// which the Pulumi program sets on the Job and the migrate command reads.
// Each principal is an Entra ID managed identity: its PostgreSQL role name
// (the identity's name) and its object (principal) id.
const (
	EnvMigratePrincipal    = "POSTGRES_MIGRATE_PRINCIPAL"
	EnvMigratePrincipalOID = "POSTGRES_MIGRATE_PRINCIPAL_OID"
	EnvEnrichPrincipal     = "POSTGRES_ENRICH_PRINCIPAL"
	EnvEnrichPrincipalOID  = "POSTGRES_ENRICH_PRINCIPAL_OID"
	// EnvReportReaders is a JSON list of further principals granted the
	// reporting reader role: [{"name": ..., "objectId": ..., "type":
	// "service"|"group"|"user"}]; empty or unset for none.
	EnvReportReaders = "POSTGRES_REPORT_READERS"
)
