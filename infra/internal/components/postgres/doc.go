// Package postgres declares the PostgreSQL Flexible Server on the 2024-08-01
// API (the first GA API with private endpoints and publicNetworkAccess; the
// module default, 2022-12-01, only knows VNet injection): SKU, storage, backup
// and high availability from config (zone redundant when zones are set),
// Entra ID authentication only (password auth off) with an Entra ID
// administrator, the "sluice" database, built-in PgBouncer where the SKU
// allows it, and a private endpoint with private networking.
//
// Azure rejects concurrent writes to one server ("ServerBusy", 409), so the
// administrators, database, firewall rule, every server parameter, the
// private endpoint, the diagnostic setting and the lock are applied one
// after another (Ready is the last of them).
package postgres
