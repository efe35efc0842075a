// Package refdata reads and writes Sluice's reference data.
//
// Device models and their alarm thresholds live in a Parquet file (one row
// per model: model, kind, unit, vendor, warn_threshold, crit_threshold,
// range_min, range_max), written and read with
// github.com/parquet-go/parquet-go. The file may sit on local disk (a path
// or file:// URL) or in Azure Data Lake Storage Gen2, addressed as
// abfss://<filesystem>@<account>.dfs.core.windows.net/<path> or as an
// https URL of the dfs or blob endpoint, and read with the Azure SDK's
// Data Lake client authenticated by azidentity (workload identity on AKS).
// Files written by other tools are accepted when the columns exist with
// compatible types (string columns, float or double thresholds, optional or
// required); a file that is not Parquet, lacks a column, has a null or
// non-finite threshold, warn above crit, or a repeated model is rejected
// with an error naming the problem.
//
// A reference file is untrusted input, and parquet-go sizes its buffers by
// the lengths a file declares; before it reads one, every such length (the
// footer's, the metadata's lists and strings, each page's sizes and value
// count, what a compressed page inflates to) is checked against the file's
// size and fixed bounds (at most [MaxModels] rows, 64 MiB of pages), so
// what parsing allocates stays proportional to the file. Pages must be
// uncompressed, snappy or zstd, whose output can be bounded first.
//
// A remote location carries no credentials (the file is read with an
// Entra ID token): a password, user information in an https URL or a query
// (a SAS token) is refused, as are filesystem names Data Lake Storage
// would refuse and empty, "." or ".." path segments.
//
// Sites and devices are PostgreSQL tables; [SeedPostgres] fills them for
// local runs, and [Fleet] derives all three sets from the simulator's fleet
// so local reference data matches the events the simulator emits.
package refdata
