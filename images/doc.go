// Package images builds one OCI image per Sluice workload without a Docker
// daemon, using go-containerregistry.
//
// Each Go workload's image is two layers on top of a base:
//
//   - the base: either the offline base assembled here (CA bundle from the
//     host at /etc/ssl/certs/ca-certificates.crt, /etc/passwd and /etc/group
//     with the non-root user nonroot 65532:65532, /etc/nsswitch.conf, time
//     zone data at /usr/share/zoneinfo taken from the Go toolchain's
//     lib/time/zoneinfo.zip, /tmp and /home/nonroot), so images build and
//     test with no registry at all; or a release base pinned by digest
//     (Options.BaseImage, e.g. a distroless static nonroot image
//     "gcr.io/distroless/static-debian12@sha256:…"), pulled only when set;
//   - the workload binary at /<name>, cross-built with CGO_ENABLED=0
//     GOOS=linux GOARCH=amd64 go build -trimpath -buildvcs=false
//     -ldflags "-s -w -buildid= -X …/version.Version=… -X …/version.Revision=…".
//
// Images hold no shell and no other executable. The config runs the binary
// as user 65532:65532 with entrypoint /<name> and working directory /, and
// carries the OCI labels (and manifest annotations)
// org.opencontainers.image.source, .revision, .version, .created, .title.
//
// The stream image (Stream, the Spark job; Options.SparkBase and
// SparkJars) is not built from this module. Its base is Apache Spark's
// image pinned by digest (e.g. "apache/spark:3.5.7-scala2.12-java17-ubuntu@sha256:…"),
// whose entrypoint, cmd, working directory and environment it keeps, so
// the Spark operator runs the base's /opt/entrypoint.sh. On top goes one
// layer with the jars of a folder under deploy.SparkJarDir: the job jar
// (deploy.SparkJobJar) and the jars Spark's distribution does not ship
// (the Kafka source, the Cassandra connector and their dependencies),
// root-owned, 0644 (folders 0755), readable by the config's user
// deploy.SparkUID. The folder is an input: `devservices spark-image`
// writes it (the local Spark jar set minus spark-sql's runtime closure,
// matched by group:artifact), so this package needs no Maven and no dev
// tooling. The manifest also names the base and its digest. Without
// SparkBase the default set is the Go images; asking for Stream without
// it is ErrNoSparkBase.
//
// Builds are reproducible: layers are written with sorted entries, owner
// and modification time fixed (Options.Created, from SOURCE_DATE_EPOCH or
// the commit time), gzip without a timestamp, and the config's times are
// fixed too, so the same source, toolchain, CA bundle and base give the same
// digests (for the stream image: the same base and jars). WriteLayout writes an OCI image layout (one manifest per
// workload, annotated org.opencontainers.image.ref.name=<name>); Push sends
// the images to a registry (see package acr for Azure Container Registry
// credentials) and returns their digest references.
package images
