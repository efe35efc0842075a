// Package datalake declares the Data Lake Storage Gen2 account (hierarchical
// namespace) holding the reference Parquet files the enrich batch reads, and
// its "reference" container. Shared-key and anonymous access are off, so only
// Entra ID principals with a data role reach the data; TLS 1.2 is the minimum;
// with private networking the blob and dfs endpoints are private and public
// access is off.
package datalake
