// Package keyvault declares the platform's Key Vault: Azure RBAC only (no
// access policies), soft delete always on, purge protection where the stack
// asks for it (prod), public network access off behind a private endpoint
// with private networking, audit logs to Log Analytics and a CanNotDelete lock
// on protected stacks. Secrets are written by the components that own them
// (the Cosmos DB account key) and read by workloads holding "Key Vault Secrets
// User" on that one secret.
package keyvault
