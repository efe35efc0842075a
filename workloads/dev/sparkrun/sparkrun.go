package sparkrun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/modroot"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
)

// StreamJob is the stream job's main class.
const StreamJob = deploy.SparkStreamMainClass

// EnrichJob is the Spark enrich job's main class.
const EnrichJob = deploy.SparkEnrichMainClass

// JarName is the job jar Maven builds.
const JarName = "sluice-spark.jar"

// DemoTrigger is the stream job's processing-time trigger in the demo; the
// benchmark runs the job at it too.
const DemoTrigger = 5 * time.Second

var buildMu sync.Mutex

// Job is a built job jar with the runtime it runs on.
type Job struct {
	Jar     string
	Runtime devservices.SparkRuntime
}

// Prepare fetches the Spark jar set (devservices) and compiles the job jar
// with Maven into <home>/build/spark; Maven rebuilds only what changed and
// runs the job's JUnit tests.
func Prepare(ctx context.Context, m *devservices.Manager) (Job, error) {
	rt, err := m.SparkJars(ctx)
	if err != nil {
		return Job{}, err
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	root, err := modroot.Find(".")
	if err != nil {
		return Job{}, err
	}
	out := filepath.Join(m.Layout().Home, "build", "spark")
	cmd := exec.CommandContext(ctx, rt.Mvn, "-q", "-B", "-f", filepath.Join(root, "workloads", "spark", "pom.xml"),
		"-Dmaven.repo.local="+m.Layout().MavenRepo(), "-Dsluice.build.dir="+out, "package")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return Job{}, fmt.Errorf("build the spark job (mvn package): %w\n%s", err, log.String())
	}
	jar := filepath.Join(out, JarName)
	if _, err := os.Stat(jar); err != nil {
		return Job{}, fmt.Errorf("mvn package left no %s: %w", jar, err)
	}
	return Job{Jar: jar, Runtime: rt}, nil
}

// Options are one run of a job.
type Options struct {
	Job Job
	// Class is the main class; StreamJob when empty.
	Class string
	// Env is added to the process environment (KEY=value), after it.
	Env []string
	// Heap is the JVM's -Xmx; 1g when empty.
	Heap string
	// Log receives the job's output.
	Log string
}

// LocalEnv is the environment of a job in local mode: local[2] unless the
// environment after it says otherwise, on the loopback address.
func LocalEnv() []string {
	return []string{"SPARK_LOCAL_IP=127.0.0.1", "SPARK_MASTER=local[2]"}
}

// Command is the command line that starts class of job in a JVM of heap
// (-Xmx): what the Go enrich job's ENRICH_SPARK_COMMAND holds for a local
// run of the Spark engine (with LocalEnv in its environment).
func Command(job Job, class, heap string) ([]string, error) {
	cp, err := devservices.SparkClasspath(job.Jar, job.Runtime.Jars)
	if err != nil {
		return nil, err
	}
	argv := append([]string{job.Runtime.Java}, devservices.SparkJavaOptions()...)
	return append(argv, "-Xmx"+heap, "-cp", cp, class), nil
}

// Proc is a running job.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
	logf *os.File
}

// Start starts the job in local mode (local[2] unless the environment sets
// SPARK_MASTER) on the loopback address.
func Start(o Options) (*Proc, error) {
	class, heap := o.Class, o.Heap
	if class == "" {
		class = StreamJob
	}
	if heap == "" {
		heap = "1g"
	}
	argv, err := Command(o.Job, class, heap)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), LocalEnv()...), o.Env...)
	logf, err := os.OpenFile(o.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open spark job log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start spark job: %w", err)
	}
	p := &Proc{cmd: cmd, done: make(chan struct{}), log: o.Log, logf: logf}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// Wait waits for the job to exit (an available-now run ends by itself) and
// returns its error with the log's tail.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.done:
	case <-ctx.Done():
		p.Kill()
		return fmt.Errorf("spark job did not finish: %w\n%s", ctx.Err(), localrun.Tail(p.log, 40))
	}
	if p.err != nil {
		return fmt.Errorf("spark job failed: %w\n%s", p.err, localrun.Tail(p.log, 40))
	}
	return nil
}

// Kill ends the JVM at once (SIGKILL: no shutdown hook, nothing committed
// that was not already) and waits for it.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Stop asks the JVM to stop (SIGTERM: Spark's shutdown hook stops the
// queries) and waits up to timeout before killing it.
func (p *Proc) Stop(timeout time.Duration) {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
	}
}

// Pid is the JVM's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the job has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
