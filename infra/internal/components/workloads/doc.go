// Package workloads deploys Sluice's workloads onto the AKS cluster with
// pulumi-kubernetes, through a Kubernetes provider built from the cluster's
// user credentials.
//
// The cluster has no local accounts (Entra ID only), so the kubeconfig AKS
// returns (format exec) runs kubelogin; ForLogin rewrites it to log in
// non-interactively with sluice:kubeLoginMode: azurecli (an `az login`
// session; in CI azure/login provides one), workloadidentity, spn or msi.
// kubelogin must be on the deployer's PATH, and the deployer's identity needs
// an AKS RBAC role on the cluster (Azure Kubernetes Service RBAC Cluster
// Admin, or Writer on the namespace). A private API server is reachable only
// from inside the VNet (AZURE-NOTES): deploy prod from a runner there.
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
//     new key without a restart (see infra/scripts/rotate-cosmos-key.sh).
//
// Images are referenced by digest only (config validation refuses tags).
package workloads
