package config

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Workloads is how the workloads run on AKS.
type Workloads struct {
	// Images maps a workload (ImageWorkloads) to its image by digest:
	// "<registry>/<repository>@sha256:<hex>", or "sha256:<hex>" for
	// "<this stack's ACR login server>/<workload>@sha256:<hex>". Empty
	// means unset; SLUICE_IMAGES_FILE (the `make images` output) fills or
	// overrides it (see ApplyImagesFile).
	Images map[string]string
	// IngestMinReplicas and IngestMaxReplicas bound KEDA's scaling of
	// ingest on consumer lag; the maximum never exceeds the events hub's
	// partitions (an idle consumer would own no partition).
	IngestMinReplicas int
	IngestMaxReplicas int
	// IngestLagThreshold is the consumer lag (records) one replica is
	// expected to absorb.
	IngestLagThreshold int
	// APIMinReplicas and APIMaxReplicas bound the api's CPU autoscaler.
	APIMinReplicas int
	APIMaxReplicas int
	// ChangefeedReplicas run the change feed; one holds the lease, the
	// others stand by.
	ChangefeedReplicas int
	// EnrichSchedule is the enrich CronJob's schedule (cron, UTC).
	EnrichSchedule string
	// APICredentialHashes are the hex SHA-256 hashes of the API keys clients
	// send; the api refuses to start without one.
	APICredentialHashes []string
	// APIIngress is how the api is reached from outside the cluster:
	// none, internal (a private load balancer in the VNet) or public,
	// through the AKS application routing add-on with TLS.
	APIIngress string
	// APIHostname is the api's DNS name (Ingress host and TLS name).
	APIHostname string
	// APITLSCertificateName names the certificate for APIHostname in the
	// stack's Key Vault; the add-on reads it with its own identity.
	APITLSCertificateName string
	// SeedReferenceData runs the reference-data seed Job on every
	// deployment: it uploads the device-model Parquet file and fills the
	// sites and devices tables with the demo fleet, each only when empty,
	// so a user's own reference data is kept. false: the user provides
	// both (see README, "Reference data").
	SeedReferenceData bool
	// KubeLoginMode is how kubelogin gets the deployer's Entra ID token for
	// the cluster (local accounts are disabled): azurecli (an `az login`
	// session, also what azure/login gives CI), workloadidentity, spn or msi.
	KubeLoginMode string
}

// ImageWorkloads are the workloads that ship as images, with the config key
// of each one's image.
var ImageWorkloads = deploy.Images()

// ImageKey is the config key of a workload's image: "imageIngest".
func ImageKey(workload string) string {
	return "image" + strings.ToUpper(workload[:1]) + workload[1:]
}

// ImagesFileEnv names the file with image references written by
// `make images` (delivery sets it for `pulumi up`).
const ImagesFileEnv = "SLUICE_IMAGES_FILE"

// KubeLoginModes are the non-interactive kubelogin login modes.
var KubeLoginModes = []string{"azurecli", "workloadidentity", "spn", "msi"}

var (
	// fullImageRef is "<registry host>/<repository>@sha256:<hex>"; the host
	// has a dot or a port (or is localhost), as Docker references require.
	fullImageRef = regexp.MustCompile(`^(localhost|[a-z0-9-]+(\.[a-z0-9-]+)+)(:[0-9]{1,5})?/[a-z0-9]+([._/-][a-z0-9]+)*@sha256:[0-9a-f]{64}$`)
	bareDigest   = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	sha256Hex    = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	cronField    = regexp.MustCompile(`^(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*$`)
)

// IsDigestRef reports whether ref is a full image reference pinned by
// digest, with a registry host.
func IsDigestRef(ref string) bool { return fullImageRef.MatchString(ref) }

// IsBareDigest reports whether v is "sha256:<64 hex>".
func IsBareDigest(v string) bool { return bareDigest.MatchString(v) }

func readWorkloads(r *reader) Workloads {
	w := Workloads{
		Images:                map[string]string{},
		IngestMinReplicas:     r.integer("ingestMinReplicas"),
		IngestMaxReplicas:     r.integer("ingestMaxReplicas"),
		IngestLagThreshold:    r.integer("ingestLagThreshold"),
		APIMinReplicas:        r.integer("apiMinReplicas"),
		APIMaxReplicas:        r.integer("apiMaxReplicas"),
		ChangefeedReplicas:    r.integer("changefeedReplicas"),
		EnrichSchedule:        r.str("enrichSchedule"),
		APICredentialHashes:   r.strs("apiCredentialHashes"),
		KubeLoginMode:         r.str("kubeLoginMode"),
		APIIngress:            r.str("apiIngress"),
		APIHostname:           r.str("apiHostname"),
		APITLSCertificateName: r.str("apiTlsCertificateName"),
		SeedReferenceData:     r.boolean("seedReferenceData"),
	}
	for _, name := range ImageWorkloads {
		w.Images[name] = r.str(ImageKey(name))
	}
	return w
}

func (v *validator) workloads(c *Config) {
	w := c.Workloads
	for _, name := range ImageWorkloads {
		img := w.Images[name]
		if img != "" && !IsDigestRef(img) && !IsBareDigest(img) {
			v.addf("sluice:%s %q is not an image pinned by digest (<registry>/<repository>@sha256:<64 hex>, or sha256:<64 hex> in the stack's registry)", ImageKey(name), img)
		}
	}
	if w.IngestMinReplicas < 1 {
		v.addf("sluice:ingestMinReplicas is %d; at least one ingest replica must consume", w.IngestMinReplicas)
	}
	if w.IngestMaxReplicas < w.IngestMinReplicas || w.IngestMaxReplicas > c.EventHubs.Partitions {
		v.addf("sluice:ingestMaxReplicas is %d; it must be between sluice:ingestMinReplicas (%d) and the events hub's partitions (sluice:eventHubsPartitions = %d): a consumer beyond the partition count sits idle",
			w.IngestMaxReplicas, w.IngestMinReplicas, c.EventHubs.Partitions)
	}
	if w.IngestLagThreshold < 1 {
		v.addf("sluice:ingestLagThreshold is %d; it must be a positive number of records", w.IngestLagThreshold)
	}
	v.between("apiMinReplicas", w.APIMinReplicas, 1, 100)
	if w.APIMaxReplicas < w.APIMinReplicas || w.APIMaxReplicas > 100 {
		v.addf("sluice:apiMaxReplicas is %d; it must be between sluice:apiMinReplicas (%d) and 100", w.APIMaxReplicas, w.APIMinReplicas)
	}
	v.between("changefeedReplicas", w.ChangefeedReplicas, 1, 5)
	if len(c.Zones) > 0 {
		for _, n := range []struct {
			key string
			n   int
		}{{"ingestMinReplicas", w.IngestMinReplicas}, {"apiMinReplicas", w.APIMinReplicas}, {"changefeedReplicas", w.ChangefeedReplicas}} {
			if n.n < 2 {
				v.addf("sluice:%s is %d while zones are configured; run at least 2 so a zone outage leaves one", n.key, n.n)
			}
		}
	}
	if fields := strings.Fields(w.EnrichSchedule); len(fields) != 5 {
		v.addf("sluice:enrichSchedule %q is not a 5-field cron schedule (minute hour day month weekday)", w.EnrichSchedule)
	} else {
		for _, f := range fields {
			if !cronField.MatchString(f) {
				v.addf("sluice:enrichSchedule %q: field %q is not a cron field", w.EnrichSchedule, f)
			}
		}
	}
	for _, h := range w.APICredentialHashes {
		if !sha256Hex.MatchString(h) {
			v.addf("sluice:apiCredentialHashes contains %q, which is not a hex SHA-256 hash (64 hex digits)", h)
		}
	}
	v.oneOf("kubeLoginMode", w.KubeLoginMode, KubeLoginModes...)
	v.apiIngress(w)
}

// ReadImagesFile reads the JSON object `make images` writes: workload name →
// "<registry>/<name>@sha256:<hex>". Every key must be a known workload and
// every value a full digest reference.
func ReadImagesFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read images file: %w", err)
	}
	var refs map[string]string
	if err := json.Unmarshal(b, &refs); err != nil {
		return nil, fmt.Errorf("images file %s: want a JSON object of workload name to image reference: %w", path, err)
	}
	var problems []string
	for _, name := range sortedKeys(refs) {
		known := false
		for _, w := range ImageWorkloads {
			known = known || w == name
		}
		switch {
		case !known:
			problems = append(problems, fmt.Sprintf("%q is not a workload (%s)", name, strings.Join(ImageWorkloads, ", ")))
		case !IsDigestRef(refs[name]):
			problems = append(problems, fmt.Sprintf("%s: %q is not <registry>/<repository>@sha256:<64 hex>", name, refs[name]))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("images file %s: %s", path, strings.Join(problems, "; "))
	}
	return refs, nil
}

// ApplyImagesFile overlays the images named in the file at path on c's
// images: the file wins, workloads it does not name keep their config.
func ApplyImagesFile(c *Config, path string) error {
	refs, err := ReadImagesFile(path)
	if err != nil {
		return err
	}
	if c.Workloads.Images == nil {
		c.Workloads.Images = map[string]string{}
	}
	for name, ref := range refs {
		c.Workloads.Images[name] = ref
	}
	return nil
}

// WorkloadsReady reports what the workloads' deployment still lacks after
// the images file is applied: an image per workload and at least one API
// key hash. A configuration can be valid without them (Pulumi.yaml's
// defaults are), but it cannot be deployed.
func (c *Config) WorkloadsReady() error {
	var problems []string
	for _, name := range c.DeployedImages() {
		if c.Workloads.Images[name] == "" {
			problems = append(problems, fmt.Sprintf("no image for %s: set sluice:%s or point %s at the output of `make images`", name, ImageKey(name), ImagesFileEnv))
		}
	}
	if len(c.Workloads.APICredentialHashes) == 0 {
		problems = append(problems, "sluice:apiCredentialHashes is empty: the api refuses to serve without the hash of at least one API key")
	}
	if len(problems) > 0 {
		return &Error{Stack: c.Stack, Problems: problems}
	}
	return nil
}
