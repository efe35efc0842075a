// Package workloads deploys Sluice's workloads onto the AKS cluster with
// pulumi-kubernetes, through a Kubernetes provider built from the cluster's
// user credentials.
//
// The cluster has no local accounts (Entra ID only), so the kubeconfig AKS
// returns (format exec) runs kubelogin; ForLogin rewrites it to log in
// non-interactively with sluice:kubeLoginMode: azurecli (an `az login`
// session; in CI azure/login provides one), workloadidentity, spn or msi.
// kubelogin must be on the deployer's PATH. The deployer's identity gets
// Azure Kubernetes Service RBAC Cluster Admin on the cluster (package aks);
// the provider depends on that assignment, and while the assignment is
// younger than RBACPropagation (5 minutes) the provider's kubeconfig, so its
// first call, is held back (not in preview). A slower propagation shows as a
// 403 on the first object, and running `up` again succeeds. A private API
// server is reachable only from inside the VNet (AZURE-NOTES): deploy prod
// from a runner there.
//
// Every object waits for what it uses: pods for the user node pool, the
// PostgreSQL database, parameters and private endpoint, the Cosmos keyspace
// and tables, the Redis database and grants (Args.DependsOn); the
// ScaledObject, SecretProviderClasses and the ingress objects for the
// cluster resource, which brings the KEDA, CSI and application routing
// add-ons and their CRDs (Args.Cluster).
//
// With sluice:apiIngress internal or public, an Ingress for the api (host
// sluice:apiHostname, TLS from the Key Vault certificate
// sluice:apiTlsCertificateName via the application routing add-on, class
// webapprouting.kubernetes.azure.com; internal uses its own
// NginxIngressController with an internal load balancer, class
// nginx-internal) and api-ingress admits only the app-routing-system
// namespace. In internal mode the add-on's default (public) controller still
// exists, with no Ingress routed through it.
//
// Everything lives in one namespace (sluice:kubernetesNamespace, the subject
// of the workloads' federated credentials), labelled for the restricted Pod
// Security Standard:
//
//   - a ServiceAccount per workload identity (ingest, changefeed, api,
//     enrich) annotated azure.workload.identity/client-id; pods are labelled
//     azure.workload.identity/use=true and mount no Kubernetes API token;
//   - the postgres-principals Job (postgres.go: the migrate image with
//     -principals, as the postgres-admin identity, an Entra administrator of
//     the server) creating the PostgreSQL roles of the migrate and enrich
//     identities, then the schema migration Job (migrate, as the migrate
//     identity, which owns the PostgreSQL schema) that every workload
//     depends on, so Pulumi waits for it to complete first; a new image
//     replaces the Jobs and runs them again;
//   - with sluice:seedReferenceData, the seed-reference Job (refdata.go:
//     enrich seed --if-empty, as migrate) that enrich waits for;
//   - Deployments ingest, changefeed and api, the CronJob enrich (hourly by
//     default, concurrencyPolicy Forbid), a Service for api (and one for
//     ingest, which KEDA reads the consumer lag from);
//   - for every pod: requests and limits, liveness /healthz and readiness
//     /readyz probes (long-running workloads), runAsNonRoot 65532, a
//     read-only root filesystem with an emptyDir /tmp, no privilege
//     escalation, all capabilities dropped, the RuntimeDefault seccomp
//     profile, and topology spread across zones (hard when the stack has
//     zones) and nodes;
//   - PodDisruptionBudgets (maxUnavailable 1) for the Deployments;
//   - a KEDA ScaledObject scaling ingest on the consumer group's lag
//     between sluice:ingestMinReplicas and sluice:ingestMaxReplicas (never
//     above the events hub's partitions), and a CPU HorizontalPodAutoscaler
//     for api. KEDA's kafka scaler authenticates with SASL PLAIN (a
//     connection string) or OAUTHBEARER client credentials (a client secret)
//     only, never with workload identity, and the Event Hubs namespace has
//     local (SAS) authentication disabled; so ingest measures its group's
//     lag itself, with its own identity and the Event Hubs-safe client
//     settings, and serves it at /lag, which KEDA's metrics-api trigger reads;
//   - NetworkPolicies: deny everything, then allow only DNS to kube-dns, the
//     Entra ID token endpoint (HTTPS to public addresses), api's port from
//     anywhere, ingest's port from the KEDA operator, and each workload's
//     flows of DESIGN.md: ingest → Event Hubs 9093 and Cosmos DB 10350,
//     changefeed and api → Cosmos DB and Redis, enrich → Cosmos DB,
//     PostgreSQL and Storage 443, migrate → PostgreSQL 5432. With private
//     networking the data services are only reachable in the private
//     endpoints subnet; without it (dev) at public addresses;
//   - a SecretProviderClass per workload reading the Cosmos DB key
//     (Key Vault secret cosmos-cassandra-key) with the workload's identity,
//     mounted read-only where CASSANDRA_PASSWORD_FILE points. It syncs no
//     Kubernetes Secret: no Secret holds the key. The cluster's Key Vault
//     provider rotates the mounted file, and the workloads reconnect with the
//     new key without a restart (see infra/delivery/scripts/rotate-cosmos-key.sh).
//
// With sluice:sparkStream (spark.go), the Spark Operator's Helm release
// (pinned, watching only this namespace, webhook off) and the stream job as
// a SparkApplication: its own identity and service account, driver and
// executor pod templates within the restricted standard (user 185 of
// Apache Spark's image; only the driver mounts an API token, and a Role
// lets it manage its executors), the Cosmos DB key over CSI, checkpoints
// on a ReadWriteMany Azure Files claim, and NetworkPolicies for Event
// Hubs, Cosmos DB, the Spark ports between its pods and the driver's way
// to the API server.
//
// With sluice:enrichEngine spark (enrichspark.go), the same operator (one
// release for both jobs) and, for the enrich CronJob, a ConfigMap holding
// the SparkApplication template it launches each window from
// (workloads/internal/sparklaunch.Operator), mounted into its pod with an
// API token; a Role letting enrich manage sparkapplications only; the
// Spark pods' service account enrich-spark, federated to the enrich
// identity (its rights exactly: the read-only Cosmos DB key, the models,
// the enrich PostgreSQL role) with the driver's Role; and NetworkPolicies
// for their data flows, the Spark ports and the API server.
//
// Images are referenced by digest only (config validation refuses tags).
package workloads
