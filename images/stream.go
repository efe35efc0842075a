package images

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Stream is the Spark stream job's image: not built from this module but
// assembled from Apache Spark's image and a folder of jars.
const Stream = deploy.Stream

// SparkUser is the stream image config's user: Apache Spark's image runs
// Spark as this uid, and the operator's pods expect it.
var SparkUser = strconv.Itoa(deploy.SparkUID)

// Jar is one file of the stream image's jar folder (deploy.SparkJarDir).
type Jar struct {
	Name string
	Data []byte
}

// jobJarName is the job jar's file name in the jar folder.
var jobJarName = path.Base(deploy.SparkJobJar)

// ReadJars reads the *.jar files of dir (devservices spark-image writes
// it: the job jar and the jars Spark's distribution does not ship), sorted
// by name. dir must hold the job jar; other files are ignored.
func ReadJars(dir string) ([]Jar, error) {
	if dir == "" {
		return nil, fmt.Errorf("stream jars: no jar folder (run devservices spark-image)")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("stream jars (run devservices spark-image): %w", err)
	}
	var jars []Jar
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".jar") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("stream jars: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("stream jars: %s is not a regular file", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("stream jars: %w", err)
		}
		jars = append(jars, Jar{Name: e.Name(), Data: data})
	}
	if err := checkJars(jars); err != nil {
		return nil, fmt.Errorf("stream jars in %s: %w", dir, err)
	}
	return jars, nil
}

// checkJars requires plain, distinct file names and the job jar.
func checkJars(jars []Jar) error {
	seen := map[string]bool{}
	for _, j := range jars {
		if j.Name == "" || strings.ContainsAny(j.Name, `/\`) || j.Name == "." || j.Name == ".." || !strings.HasSuffix(j.Name, ".jar") {
			return fmt.Errorf("jar name %q is not a plain *.jar file name", j.Name)
		}
		if seen[j.Name] {
			return fmt.Errorf("jar %s given twice", j.Name)
		}
		seen[j.Name] = true
	}
	if !seen[jobJarName] {
		return fmt.Errorf("no job jar %s (build it with make spark)", jobJarName)
	}
	return nil
}

// AssembleStream puts jars under deploy.SparkJarDir on top of base
// (Apache Spark's image), in one layer of root-owned files (0644, folders
// 0755) that SparkUser can read. The base's entrypoint, cmd, working
// directory and environment stay: the Spark operator runs the base's
// entrypoint. The config runs as SparkUser and carries labels; the
// manifest carries them and baseName with the base's digest.
func AssembleStream(base v1.Image, baseName string, jars []Jar, labels map[string]string) (v1.Image, error) {
	if baseName == "" {
		return nil, fmt.Errorf("assemble %s: no base name", Stream)
	}
	if err := checkJars(jars); err != nil {
		return nil, fmt.Errorf("assemble %s: %w", Stream, err)
	}
	baseConfig, err := base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("assemble %s: base config: %w", Stream, err)
	}
	if len(baseConfig.Config.Entrypoint) == 0 {
		return nil, fmt.Errorf("assemble %s: base %s has no entrypoint; want Apache Spark's image", Stream, baseName)
	}
	// Add creates the folders above each jar root-owned with 0755.
	sorted := append([]Jar(nil), jars...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	files := make([]File, 0, len(sorted))
	for _, j := range sorted {
		files = append(files, File{Path: deploy.SparkJarDir + "/" + j.Name, Mode: 0o644, Data: j.Data})
	}
	return appendLayer(base, baseName, Stream, files, labels,
		fmt.Sprintf("sluice images: %s (the stream job jar and %d jars Spark does not ship)", deploy.SparkJarDir, len(jars)-1),
		func(cf *v1.ConfigFile) { cf.Config.User = SparkUser })
}
