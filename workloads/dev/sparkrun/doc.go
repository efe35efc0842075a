// Package sparkrun runs the Spark jobs of workloads/spark on one machine:
// it builds the job jar with Maven (into .sluice/build/spark), fetches
// Spark's jar set through devservices, and starts a job in local mode as a
// child JVM with the module options Spark needs on Java 17. The demo, the
// benchmark and the tests start the stream job through it.
package sparkrun
