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
//   - [Operator] creates a SparkApplication (enrich-run-<id>) from a
//     template (ENRICH_SPARK_APPLICATION, a ConfigMap the infra mounts)
//     through the in-cluster Kubernetes API with plain HTTP and follows its
//     state until COMPLETED or a failure; cancelling deletes the
//     application, driver first, so nothing commits. The enrich CronJob on
//     AKS uses it; its service account may only manage sparkapplications
//     in its namespace.
//
// The driver's arguments are [Args]: --run-id, --from and --to.
package sparklaunch
