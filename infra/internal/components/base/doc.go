// Package base holds what every Sluice component shares: the environment a
// component is declared in (config, resource group, region, tags, the Log
// Analytics workspace), and small helpers for the cross-cutting rules —
// diagnostic settings to Log Analytics, least-privilege role assignments,
// CanNotDelete locks and the options that protect data stores.
package base
