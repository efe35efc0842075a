// Package crdschema loads published CustomResourceDefinitions and validates
// custom resources against their OpenAPI v3 schema the way an API server
// with those CRDs installed would (closed objects unless the schema leaves
// them open, types, enums, required fields; metadata decoded strictly into
// ObjectMeta).
//
// It sits outside infra and workloads so that both may use it: the plan
// check validates the custom resources the Pulumi program declares, and the
// Spark launcher's tests validate the SparkApplication it creates, against
// the same published schemas (../shared/schemas/crds beside the repository,
// or $SLUICE_SHARED_DIR/schemas/crds).
package crdschema
