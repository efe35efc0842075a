package devservices

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// The stream image runs on Apache Spark's own image, whose /opt/spark/jars
// is the distribution's jar set. What the image adds is the part of the
// local jar set that the distribution does not ship: the Kafka source and
// the Cassandra connector with their dependencies. The distribution holds
// (at least) spark-sql's runtime closure, so the extra jars are the local
// jar set minus every group:artifact of that closure. Matching by
// group:artifact, not by file name, keeps a second version of a jar Spark
// already has (one that Maven mediated differently in the combined set)
// off the class path.

// sparkDistributionArtifacts is what the Spark image already ships jars for.
func sparkDistributionArtifacts() []artifact { return sparkArtifacts()[:1] }

// mavenDep is one resolved dependency as dependency:list and
// dependency:tree print it.
type mavenDep struct {
	Group, Artifact, Type, Classifier, Version, Scope string
	// File is the jar in the local repository (dependency:list with
	// outputAbsoluteArtifactFilename only).
	File string
}

// key identifies a dependency regardless of its version.
func (d mavenDep) key() string { return d.Group + ":" + d.Artifact }

// parseMavenDeps reads the output file of dependency:list
// ("   g:a:type[:classifier]:version:scope[:/path] -- module m") or of
// dependency:tree ("|  +- g:a:type[:classifier]:version:scope (optional)").
// The project's own line (g:a:packaging:version, no scope) and the headings
// are skipped.
func parseMavenDeps(out string) ([]mavenDep, error) {
	var deps []mavenDep
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimLeft(line, " |+-\\")
		line = strings.TrimRight(line, "\r ")
		if line == "" || strings.HasPrefix(line, "The following files have been resolved") || line == "none" {
			continue
		}
		coords, file := line, ""
		if i := strings.Index(line, ":/"); i >= 0 {
			coords, file = line[:i], line[i+1:]
			if j := strings.Index(file, " -- "); j >= 0 {
				file = file[:j]
			}
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			coords = line[:i]
		}
		f := strings.Split(coords, ":")
		var d mavenDep
		switch len(f) {
		case 4:
			continue // the project itself
		case 5:
			d = mavenDep{Group: f[0], Artifact: f[1], Type: f[2], Version: f[3], Scope: f[4]}
		case 6:
			d = mavenDep{Group: f[0], Artifact: f[1], Type: f[2], Classifier: f[3], Version: f[4], Scope: f[5]}
		default:
			return nil, fmt.Errorf("maven dependency line %q: want group:artifact:type[:classifier]:version:scope", line)
		}
		for _, v := range f {
			if v == "" {
				return nil, fmt.Errorf("maven dependency line %q: empty field", line)
			}
		}
		d.File = file
		deps = append(deps, d)
	}
	return deps, nil
}

// sparkExtraJars returns the jars of full (the combined jar set) whose
// group:artifact is not in distribution (spark-sql's closure), sorted by
// file name. Only jar-typed dependencies count.
func sparkExtraJars(full, distribution []mavenDep) []mavenDep {
	shipped := map[string]bool{}
	for _, d := range distribution {
		shipped[d.key()] = true
	}
	var out []mavenDep
	for _, d := range full {
		if d.Type == "jar" && !shipped[d.key()] {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return filepath.Base(out[i].File) < filepath.Base(out[j].File) })
	return out
}

// WriteSparkImageJars fills dir with what the stream image puts in its jar
// folder: jobJar and the extra jars (the local jar set's jars that Spark's
// distribution does not ship, resolved with mvn; see above). dir is
// replaced as a whole, so it never mixes two builds. It returns the file
// names written, sorted.
func (m *Manager) WriteSparkImageJars(ctx context.Context, dir, jobJar string) ([]string, error) {
	t, err := m.checkPrereqs(ctx, []Engine{Spark})
	if err != nil {
		return nil, err
	}
	work := filepath.Join(m.layout.ArtifactDir(Spark, SparkVersion), "image")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", work, err)
	}
	full, err := m.resolve(ctx, t, work, "full", sparkArtifacts(), "list",
		"-DincludeScope=runtime", "-DoutputAbsoluteArtifactFilename=true")
	if err != nil {
		return nil, err
	}
	// The tree needs only the poms: the distribution's jars are not fetched.
	dist, err := m.resolve(ctx, t, work, "distribution", sparkDistributionArtifacts(), "tree", "-Dscope=runtime")
	if err != nil {
		return nil, err
	}
	if len(dist) == 0 {
		return nil, fmt.Errorf("mvn resolved no dependencies for %s", sparkDistributionArtifacts()[0])
	}
	extra := sparkExtraJars(full, dist)
	if len(extra) == 0 {
		return nil, fmt.Errorf("the Spark jar set adds no jars to %s; the resolution is wrong", sparkDistributionArtifacts()[0])
	}
	srcs := []string{jobJar}
	for _, d := range extra {
		if d.File == "" {
			return nil, fmt.Errorf("mvn listed %s:%s without its file", d.key(), d.Version)
		}
		srcs = append(srcs, d.File)
	}
	names, err := replaceWithCopies(dir, srcs)
	if err != nil {
		return nil, err
	}
	m.progressf(Spark, "%d extra jars and the job jar in %s", len(extra), m.rel(dir))
	return names, nil
}

// resolve writes a pom listing deps into work and runs the dependency
// plugin's goal (list or tree) on it, returning the parsed output file.
func (m *Manager) resolve(ctx context.Context, t tools, work, name string, deps []artifact, goal string, args ...string) ([]mavenDep, error) {
	pom := filepath.Join(work, name+".pom.xml")
	if err := os.WriteFile(pom, []byte(pomXML("spark-image-"+name, deps)), 0o644); err != nil {
		return nil, fmt.Errorf("write pom: %w", err)
	}
	out := filepath.Join(work, name+"."+goal+".txt")
	if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("clear %s: %w", out, err)
	}
	cmdArgs := append([]string{"-q", "-B", "-Dstyle.color=never", "-f", pom,
		"-Dmaven.repo.local=" + m.layout.MavenRepo(),
		dependencyPlugin + ":" + goal, "-DoutputFile=" + out}, args...)
	cmd := exec.CommandContext(ctx, t.mvn, cmdArgs...)
	cmd.Dir = work
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("mvn dependency:%s for %s: %w\n%s", goal, deps[0], err, lastLines(log.String(), 30))
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("read mvn dependency:%s output: %w", goal, err)
	}
	return parseMavenDeps(string(raw))
}

// replaceWithCopies makes dir hold copies of srcs (by base name) and
// nothing else: it fills a sibling folder and swaps it in.
func replaceWithCopies(dir string, srcs []string) ([]string, error) {
	tmp := dir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("clear %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	seen := map[string]string{}
	names := make([]string, 0, len(srcs))
	for _, src := range srcs {
		name := filepath.Base(src)
		if prev, ok := seen[name]; ok {
			return nil, fmt.Errorf("two jars named %s: %s and %s", name, prev, src)
		}
		seen[name] = src
		if err := copyFile(src, filepath.Join(tmp, name)); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("replace %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("replace %s: %w", dir, err)
	}
	sort.Strings(names)
	return names, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy jar: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("copy jar: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", filepath.Base(src), err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s: %w", filepath.Base(src), err)
	}
	return nil
}
