package localrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Proc is a running workload.
type Proc struct {
	Name string
	Addr string // host:port of its HTTP endpoints
	// OpsAddr is where its /readyz and /metrics are: the OPS_ADDR it was
	// given (the api serves them apart then), else Addr.
	OpsAddr string
	cmd     *exec.Cmd
	done    chan error
	logFile *os.File
	client  *http.Client
}

// FreeAddr returns a loopback address with a free port.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start runs binary with env (KEY=value, added to the current environment
// plus HTTP_ADDR) and args, logging to logPath, and waits until /readyz
// (on OPS_ADDR when env sets it) answers 200 or readyTimeout passes.
func Start(ctx context.Context, name, binary string, env []string, args []string, logPath string, readyTimeout time.Duration) (*Proc, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), env...), "HTTP_ADDR="+addr)
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	ops := addr
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, deploy.EnvOpsAddr+"="); ok && v != "" {
			ops = v
		}
	}
	p := &Proc{Name: name, Addr: addr, OpsAddr: ops, cmd: cmd, done: make(chan error, 1), logFile: lf, client: &http.Client{Timeout: 2 * time.Second}}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case err := <-p.done:
			p.done <- err
			return nil, fmt.Errorf("%s exited before it was ready (%v); see %s:\n%s", name, err, logPath, Tail(logPath, 15))
		case <-ctx.Done():
			_ = p.Stop(5 * time.Second)
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := p.client.Get("http://" + ops + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			_ = p.Stop(5 * time.Second)
			return nil, fmt.Errorf("%s not ready after %s; see %s:\n%s", name, readyTimeout, logPath, Tail(logPath, 15))
		}
	}
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Metrics returns the process's Prometheus samples without labels, and
// labelled ones summed by metric name.
func (p *Proc) Metrics() (map[string]float64, error) {
	series, err := p.Series()
	if err != nil {
		return nil, err
	}
	return SumByName(series), nil
}

// Series returns the process's Prometheus samples by series, each keyed
// as exposed: the name with its labels, e.g. `x_total{reason="invalid"}`.
func (p *Proc) Series() (map[string]float64, error) {
	resp, err := p.client.Get("http://" + p.OpsAddr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", p.Name, err)
	}
	defer resp.Body.Close()
	return ParseSeries(resp.Body)
}

// ParseMetrics reads Prometheus text exposition, summing samples of one
// name across labels.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	series, err := ParseSeries(r)
	if err != nil {
		return nil, err
	}
	return SumByName(series), nil
}

// ParseSeries reads Prometheus text exposition into samples by series
// (name and labels as written).
func ParseSeries(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		out[line[:sp]] += v
	}
	return out, sc.Err()
}

// SumByName sums series of one metric name across their labels.
func SumByName(series map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for s, v := range series {
		name, _, _ := strings.Cut(s, "{")
		out[name] += v
	}
	return out
}

// Label is the value of label in a series key as Series returns it, and
// whether the series has it.
func Label(series, label string) (string, bool) {
	_, labels, ok := strings.Cut(series, "{")
	if !ok {
		return "", false
	}
	labels = strings.TrimSuffix(labels, "}")
	for labels != "" {
		k, rest, ok := strings.Cut(labels, `="`)
		if !ok {
			return "", false
		}
		// The exposition format escapes a quote in a value with a
		// backslash, so the value ends at the first quote without one.
		end := 0
		for end < len(rest) && (rest[end] != '"' || (end > 0 && rest[end-1] == '\\')) {
			end++
		}
		if end == len(rest) {
			return "", false
		}
		if k == label {
			return rest[:end], true
		}
		labels = strings.TrimPrefix(rest[end+1:], ",")
	}
	return "", false
}

// CPUSeconds is the user+system CPU time the process has used.
func (p *Proc) CPUSeconds() (float64, error) { return CPUSeconds(p.Pid()) }

// PeakRSSMiB is the process's high-water resident set size.
func (p *Proc) PeakRSSMiB() (float64, error) { return PeakRSSMiB(p.Pid()) }

// CPUSeconds reads /proc/<pid>/stat.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	s := string(b)
	// Fields after the command name, which is in parentheses.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("read cpu time: malformed stat")
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, errors.New("read cpu time: short stat")
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	const ticks = 100 // USER_HZ on Linux
	return (ut + st) / ticks, nil
}

// PeakRSSMiB reads VmHWM from /proc/<pid>/status.
func PeakRSSMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read peak rss: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return 0, fmt.Errorf("read peak rss: %w", err)
			}
			return kb / 1024, nil
		}
	}
	return 0, errors.New("read peak rss: no VmHWM")
}

// Stop sends SIGTERM and waits up to timeout, then kills the process.
func (p *Proc) Stop(timeout time.Duration) error {
	defer p.logFile.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			return fmt.Errorf("%s exited: %w", p.Name, err)
		}
		return nil
	case <-time.After(timeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		err := <-p.done
		p.done <- err
		return fmt.Errorf("%s did not stop within %s and was killed", p.Name, timeout)
	}
}

// Kill ends the process at once, as a crash would.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	err := <-p.done
	p.done <- err
	p.logFile.Close()
}

// Tail returns the last n lines of the file at path (empty when it cannot
// be read), for failure messages that show what a process logged.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
