// Package images builds one OCI image per Sluice workload from this Go
// module, without a Docker daemon, using go-containerregistry.
//
// Each image is two layers on top of a base:
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
// Builds are reproducible: layers are written with sorted entries, owner
// and modification time fixed (Options.Created, from SOURCE_DATE_EPOCH or
// the commit time), gzip without a timestamp, and the config's times are
// fixed too, so the same source, toolchain, CA bundle and base give the same
// digests. WriteLayout writes an OCI image layout (one manifest per
// workload, annotated org.opencontainers.image.ref.name=<name>); Push sends
// the images to a registry (see package acr for Azure Container Registry
// credentials) and returns their digest references.
package images
