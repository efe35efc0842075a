// Command imagebuild builds the workload images (see package images) into
// an OCI image layout and, with -push, pushes them to a registry.
//
//	imagebuild [-C dir] [-out .sluice/images] [-workloads ingest,api,stream]
//	           [-base name@sha256:…] [-push -registry myacr.azurecr.io]
//	           [-spark-base apache/spark:<tag>@sha256:… -spark-jars dir]
//
// Settings also come from the environment, as `make images` passes them:
// PUSH=1, REGISTRY, BASE_IMAGE, SPARK_BASE_IMAGE, SPARK_JARS, VERSION,
// REVISION, SOURCE_URL, SOURCE_DATE_EPOCH, CA_BUNDLE, ACR_TOKEN_SCOPE,
// AZURE_TENANT_ID. Without them the version is `git describe --tags
// --always --dirty`, the revision the commit hash and the creation time the
// commit time.
//
// The stream image (the Spark job) is built only on a Spark base:
// -spark-base (SPARK_BASE_IMAGE) must be Apache Spark's image pinned by
// digest, and -spark-jars (SPARK_JARS, default
// <root>/.sluice/build/spark/image-jars) the folder `devservices
// spark-image` writes (the job jar and the jars Spark does not ship).
// Without a Spark base the default set builds the Go images only and says
// that the stream image was skipped; -workloads stream without one is an
// error.
//
// It writes <out>/oci (the OCI layout, one manifest per workload annotated
// org.opencontainers.image.ref.name) and <out>/digests.json (workload name →
// "<registry>/<name>@sha256:<hex>", or "<name>@sha256:<hex>" when no registry
// is given), and prints a table of the digests. Pushing to Azure Container
// Registry uses Entra ID (azidentity's default credential chain: environment,
// workload identity, managed identity, Azure CLI) exchanged for an ACR
// refresh token; no Docker config is read or written.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/sluicehq/sluice/images"
	"github.com/sluicehq/sluice/images/acr"
	"github.com/sluicehq/sluice/internal/modroot"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func envBool(key string) bool {
	v, err := strconv.ParseBool(os.Getenv(key))
	return err == nil && v
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	dir := fs.String("C", ".", "directory inside the module (go.mod is looked up from here)")
	out := fs.String("out", "", "output folder (default <root>/.sluice/images)")
	only := fs.String("workloads", "", "comma-separated workloads (default: "+strings.Join(images.Workloads, ",")+", and "+images.Stream+" when -spark-base is set)")
	push := fs.Bool("push", envBool("PUSH"), "push the images to -registry (env PUSH=1)")
	registry := fs.String("registry", os.Getenv("REGISTRY"), "registry login server, e.g. myacr.azurecr.io (env REGISTRY)")
	base := fs.String("base", os.Getenv("BASE_IMAGE"), "release base image pinned by digest (env BASE_IMAGE); empty: the offline base")
	version := fs.String("version", os.Getenv("VERSION"), "version label and version.Version (env VERSION; default git describe)")
	revision := fs.String("revision", os.Getenv("REVISION"), "revision label and version.Revision (env REVISION; default the commit hash)")
	source := fs.String("source", os.Getenv("SOURCE_URL"), "source repository URL label (env SOURCE_URL)")
	sparkBase := fs.String("spark-base", os.Getenv("SPARK_BASE_IMAGE"), "the stream image's base, Apache Spark's image pinned by digest (env SPARK_BASE_IMAGE); empty: no stream image")
	sparkJars := fs.String("spark-jars", os.Getenv("SPARK_JARS"), "folder of the stream image's jars, written by devservices spark-image (env SPARK_JARS; default <root>/.sluice/build/spark/image-jars)")
	caBundle := fs.String("ca-bundle", os.Getenv("CA_BUNDLE"), "CA bundle the offline base copies (env CA_BUNDLE; default "+images.DefaultCABundle+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	root, err := modroot.Find(*dir)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(root, ".sluice", "images")
	}
	if *push && *registry == "" {
		return errors.New("PUSH=1 needs REGISTRY=<login server> (e.g. myacr.azurecr.io)")
	}
	if *registry != "" {
		if err := images.ValidRegistry(*registry); err != nil {
			return err
		}
	}
	if *sparkJars == "" {
		*sparkJars = filepath.Join(root, ".sluice", "build", "spark", "image-jars")
	}
	var workloads []string
	if *only != "" {
		for _, w := range strings.Split(*only, ",") {
			if w = strings.TrimSpace(w); w != "" {
				workloads = append(workloads, w)
			}
		}
	}
	streamSkipped, err := checkStream(workloads, *sparkBase)
	if err != nil {
		return err
	}
	meta := gitMeta(ctx, root)
	opts := images.Options{
		Root:      root,
		Version:   firstNonEmpty(*version, meta.version, "dev"),
		Revision:  firstNonEmpty(*revision, meta.revision, "unknown"),
		Source:    firstNonEmpty(*source, githubSource(), meta.source, "https://"+images.Module),
		BaseImage: *base,
		SparkBase: *sparkBase,
		SparkJars: *sparkJars,
		CABundle:  *caBundle,
		Workloads: workloads,
	}
	opts.Created, err = created(meta.commitTime)
	if err != nil {
		return err
	}
	var registryAuth authn.Authenticator
	if *push {
		cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{TenantID: os.Getenv("AZURE_TENANT_ID")})
		if err != nil {
			return fmt.Errorf("azure credential for %s: %w", *registry, err)
		}
		registryAuth = &acr.Authenticator{
			Registry:   *registry,
			Credential: cred,
			TenantID:   os.Getenv("AZURE_TENANT_ID"),
			Scope:      os.Getenv("ACR_TOKEN_SCOPE"),
		}
		if *base != "" && strings.HasPrefix(*base, *registry+"/") {
			opts.BaseAuth = registryAuth
		}
		if *sparkBase != "" && strings.HasPrefix(*sparkBase, *registry+"/") {
			opts.SparkBaseAuth = registryAuth
		}
	}
	start := time.Now()
	built, err := images.Build(ctx, opts)
	if err != nil {
		return err
	}
	layoutDir := filepath.Join(*out, "oci")
	if err := images.WriteLayout(layoutDir, built); err != nil {
		return err
	}
	refs := map[string]string{}
	for _, img := range built {
		refs[img.Name] = images.Ref(*registry, img)
	}
	if *push {
		if refs, err = images.Push(ctx, *registry, images.Tag(opts.Version), built, registryAuth); err != nil {
			return err
		}
	}
	digests := filepath.Join(*out, "digests.json")
	if err := images.WriteDigests(digests, refs); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tDIGEST\tSIZE\tREFERENCE")
	for _, img := range built {
		size, err := compressedSize(img)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f MiB\t%s\n", img.Name, img.Digest, float64(size)/(1<<20), refs[img.Name])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print digests: %w", err)
	}
	if streamSkipped {
		fmt.Fprintln(stdout, streamSkippedNote)
	}
	verb := "built"
	if *push {
		verb = "built and pushed to " + *registry
	}
	fmt.Fprintf(stdout, "%d images %s in %s (version %s, revision %s); OCI layout %s, digests %s\n",
		len(built), verb, time.Since(start).Round(time.Second), opts.Version, opts.Revision, layoutDir, digests)
	return nil
}

// sparkBaseExample is how a Spark base is given: Apache Spark's image for
// the contract's Spark, Scala and Java, pinned by digest.
var sparkBaseExample = "apache/spark:" + deploy.SparkVersion + "-scala" + deploy.SparkScala + "-java17-ubuntu@sha256:<digest>"

var streamSkippedNote = images.Stream + " image skipped: it needs Apache Spark's image as its base; set SPARK_BASE_IMAGE=" + sparkBaseExample +
	" (or -spark-base; `make images` then also writes its jars with devservices spark-image)"

// checkStream decides about the stream image before anything is built: a
// Spark base must be pinned by digest, and asking for the stream image
// without one is an error. skipped reports that the default set leaves
// the stream image out for want of a base.
func checkStream(workloads []string, sparkBase string) (skipped bool, err error) {
	if sparkBase != "" {
		if err := images.PinnedRef(sparkBase); err != nil {
			return false, fmt.Errorf("SPARK_BASE_IMAGE / -spark-base: %w; want %s", err, sparkBaseExample)
		}
		return false, nil
	}
	if len(workloads) == 0 {
		return true, nil
	}
	for _, w := range workloads {
		if w == images.Stream {
			return false, fmt.Errorf("the %s image needs its base: set SPARK_BASE_IMAGE=%s (or -spark-base)", images.Stream, sparkBaseExample)
		}
	}
	return false, nil
}

func compressedSize(img images.Image) (int64, error) {
	layers, err := img.Image.Layers()
	if err != nil {
		return 0, fmt.Errorf("layers of %s: %w", img.Name, err)
	}
	var total int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return 0, fmt.Errorf("layer size of %s: %w", img.Name, err)
		}
		total += n
	}
	return total, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// created is SOURCE_DATE_EPOCH when set, else the commit time, else the
// Unix epoch: never the clock, so a rebuild gives the same digests.
func created(commitTime string) (time.Time, error) {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil || sec < 0 {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a Unix time in seconds", v)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	if sec, err := strconv.ParseInt(commitTime, 10, 64); err == nil && sec > 0 {
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Unix(0, 0).UTC(), nil
}

type gitInfo struct{ version, revision, commitTime, source string }

// gitMeta reads what it can from git; a tree without git (a source
// archive) leaves the fields empty.
func gitMeta(ctx context.Context, root string) gitInfo {
	git := func(args ...string) string {
		out, err := exec.CommandContext(ctx, "git", append([]string{"-C", root}, args...)...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	return gitInfo{
		version:    git("describe", "--tags", "--always", "--dirty"),
		revision:   git("rev-parse", "HEAD"),
		commitTime: git("log", "-1", "--format=%ct"),
		source:     httpsRemote(git("remote", "get-url", "origin")),
	}
}

// githubSource is the repository URL in GitHub Actions.
func githubSource() string {
	server, repo := os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_REPOSITORY")
	if server == "" || repo == "" {
		return ""
	}
	return strings.TrimRight(server, "/") + "/" + repo
}

// httpsRemote turns a git remote into a browsable https URL, without any
// credentials it may hold.
func httpsRemote(remote string) string {
	remote = strings.TrimSuffix(remote, ".git")
	switch {
	case remote == "":
		return ""
	case strings.HasPrefix(remote, "git@"):
		host, path, ok := strings.Cut(strings.TrimPrefix(remote, "git@"), ":")
		if !ok {
			return ""
		}
		return "https://" + host + "/" + path
	case strings.HasPrefix(remote, "https://"):
		rest := strings.TrimPrefix(remote, "https://")
		if at := strings.LastIndex(rest, "@"); at >= 0 && at < strings.Index(rest+"/", "/") {
			rest = rest[at+1:]
		}
		return "https://" + rest
	}
	return ""
}
