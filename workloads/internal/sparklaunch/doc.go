// Package sparklaunch starts the Spark enrich job (contract.SparkEnrichClass)
// for one window and waits for its driver to end. The Go enrich job keeps
// everything around a run (planning, the batch_runs row, its heartbeat, the
// failure record); the driver enriches the window and, in its one
// PostgreSQL transaction, marks the run succeeded (or skipped) before it
// commits. A driver that ends any other way committed nothing.
//
// Two launchers implement [Launcher]:
//
//   - [Command] runs a command line (ENRICH_SPARK_COMMAND, a JSON array:
//     spark-submit, or java with Spark's jars on the classpath) as a child
//     process with the window's arguments appended; a local run and the
//     tests use it. The child dies with the launcher.
//   - The operator launcher creates a SparkApplication from a template
//     (ENRICH_SPARK_APPLICATION) through the Kubernetes API and follows its
//     state; the enrich CronJob on AKS uses it.
//
// The driver's arguments are [Args]: --run-id, --from and --to.
package sparklaunch
