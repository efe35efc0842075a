// Package pbids writes Power BI data source files (.pbids): JSON naming a
// PostgreSQL server and database, which Power BI Desktop opens straight into
// its connection dialog (the PostgreSQL connector), so a report author
// starts from the right server and picks the `report` schema's views. The
// file carries no credential: on Azure the author signs in with Entra ID as
// a member of a report reader principal (sluice:postgresReportReaders).
package pbids
