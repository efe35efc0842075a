package sparklaunch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// The Spark Operator's API (sparkoperator.k8s.io/v1beta2, the version its
// published CRD serves).
const (
	sparkAPIVersion = "sparkoperator.k8s.io/v1beta2"
	sparkKind       = "SparkApplication"
	sparkResource   = "sparkapplications"
)

// RunLabel is the label every SparkApplication the operator launcher
// creates carries, with the run id as its value.
const RunLabel = "sluice.io/enrich-run"

// The in-cluster service-account files and environment Kubernetes gives a
// pod.
const (
	serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
	envServiceHost    = "KUBERNETES_SERVICE_HOST"
	envServicePort    = "KUBERNETES_SERVICE_PORT"
)

// Application states of the Spark Operator that end a run or that, held
// too long, mean it will not end well.
const (
	stateCompleted        = "COMPLETED"
	stateFailed           = "FAILED"
	stateSubmissionFailed = "SUBMISSION_FAILED"
	stateFailing          = "FAILING"
	stateUnknown          = "UNKNOWN"
)

// Operator launches the driver as a SparkApplication through the Kubernetes
// API (the Spark Operator submits it) and follows its state until it
// completes or fails. It talks to the API server with the pod's service
// account: the token file is read for every request, as the kubelet rotates
// it.
type Operator struct {
	// Poll is the first interval between two reads of the application's
	// state; it grows by half each read up to MaxPoll. 2 s and 15 s when
	// zero.
	Poll, MaxPoll time.Duration
	// StuckAfter is how long the application may stay FAILING or UNKNOWN,
	// or its state unreadable, before the run is given up as failed; 5 min
	// when zero.
	StuckAfter time.Duration

	template  map[string]any
	log       *slog.Logger
	base      string // https://host:port
	namespace string
	tokenFile string
	client    *http.Client
}

var _ Launcher = (*Operator)(nil)

// cluster is where and as whom the launcher reaches the API server.
type cluster struct {
	host, port                string
	tokenFile, caFile, nsFile string
}

func inCluster() cluster {
	return cluster{
		host:      os.Getenv(envServiceHost),
		port:      os.Getenv(envServicePort),
		tokenFile: serviceAccountDir + "/token",
		caFile:    serviceAccountDir + "/ca.crt",
		nsFile:    serviceAccountDir + "/namespace",
	}
}

// NewOperator reads the SparkApplication template at templatePath
// (ENRICH_SPARK_APPLICATION: JSON, apiVersion sparkoperator.k8s.io/v1beta2,
// kind SparkApplication) and the pod's in-cluster API access. A template
// that cannot be read or is not such an application fails here, before
// any run is recorded or anything is created.
func NewOperator(templatePath string, log *slog.Logger) (*Operator, error) {
	return newOperator(templatePath, inCluster(), log)
}

func newOperator(templatePath string, c cluster, log *slog.Logger) (*Operator, error) {
	if log == nil {
		log = slog.Default()
	}
	tmpl, err := readTemplate(templatePath)
	if err != nil {
		return nil, err
	}
	if c.host == "" || c.port == "" {
		return nil, fmt.Errorf("spark operator launcher: %s and %s unset: not in a Kubernetes pod", envServiceHost, envServicePort)
	}
	ns, err := os.ReadFile(c.nsFile)
	if err != nil {
		return nil, fmt.Errorf("spark operator launcher: namespace: %w", err)
	}
	ca, err := os.ReadFile(c.caFile)
	if err != nil {
		return nil, fmt.Errorf("spark operator launcher: cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("spark operator launcher: cluster CA %s: no PEM certificate", c.caFile)
	}
	if _, err := readToken(c.tokenFile); err != nil {
		return nil, err
	}
	o := &Operator{
		template:  tmpl,
		log:       log,
		base:      "https://" + net.JoinHostPort(c.host, c.port),
		namespace: strings.TrimSpace(string(ns)),
		tokenFile: c.tokenFile,
		client: &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
				TLSHandshakeTimeout: 10 * time.Second,
				IdleConnTimeout:     90 * time.Second,
			},
		},
	}
	if o.namespace == "" {
		return nil, fmt.Errorf("spark operator launcher: namespace file %s is empty", c.nsFile)
	}
	return o, nil
}

// readTemplate reads and checks the template: what the launcher relies on
// must be there (a driver needs its main class and jar); the API server
// checks the rest when the application is created.
func readTemplate(path string) (map[string]any, error) {
	if path == "" {
		return nil, errors.New("spark application template: no path")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("spark application template: %w", err)
	}
	var t map[string]any
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("spark application template %s: not a JSON object: %w", path, err)
	}
	if t["apiVersion"] != sparkAPIVersion || t["kind"] != sparkKind {
		return nil, fmt.Errorf("spark application template %s: want apiVersion %s and kind %s, got %v %v", path, sparkAPIVersion, sparkKind, t["apiVersion"], t["kind"])
	}
	spec, ok := t["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("spark application template %s: no spec object", path)
	}
	for _, k := range []string{"mainClass", "mainApplicationFile", "image"} {
		if s, _ := spec[k].(string); s == "" {
			return nil, fmt.Errorf("spark application template %s: spec.%s unset", path, k)
		}
	}
	if args, ok := spec["arguments"]; ok {
		if _, ok := args.([]any); !ok {
			return nil, fmt.Errorf("spark application template %s: spec.arguments is not an array", path)
		}
	}
	if m, ok := t["metadata"]; ok {
		if _, ok := m.(map[string]any); !ok {
			return nil, fmt.Errorf("spark application template %s: metadata is not an object", path)
		}
	}
	return t, nil
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("service account token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("service account token %s is empty", path)
	}
	return tok, nil
}

// AppName is the SparkApplication's name for a run: a DNS-1123 label (the
// operator names the driver pod after it), one per run id so a run cannot
// be launched twice.
func AppName(r Run) string { return "enrich-run-" + strconv.FormatInt(r.ID, 10) }

// application is the template for run r: its name, the run's label and the
// driver's arguments after the template's.
func (o *Operator) application(r Run) ([]byte, error) {
	// A deep copy through JSON: the template is shared by every run.
	b, err := json.Marshal(o.template)
	if err != nil {
		return nil, fmt.Errorf("encode spark application: %w", err)
	}
	var app map[string]any
	if err := json.Unmarshal(b, &app); err != nil {
		return nil, fmt.Errorf("copy spark application: %w", err)
	}
	meta, _ := app["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	delete(meta, "generateName")
	meta["name"] = AppName(r)
	meta["namespace"] = o.namespace
	labels, _ := meta["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
	}
	labels[RunLabel] = strconv.FormatInt(r.ID, 10)
	meta["labels"] = labels
	app["metadata"] = meta
	spec := app["spec"].(map[string]any)
	args, _ := spec["arguments"].([]any)
	for _, a := range Args(r) {
		args = append(args, a)
	}
	spec["arguments"] = args
	return json.Marshal(app)
}

// Launch creates the run's SparkApplication and waits for it to complete.
// When ctx ends first the application is deleted (foreground, so its driver
// and executors go with it) and the driver, killed before its commit,
// commits nothing.
func (o *Operator) Launch(ctx context.Context, r Run) error {
	if r.ID <= 0 {
		return fmt.Errorf("spark application: run id %d is not positive", r.ID)
	}
	name := AppName(r)
	log := o.log.With("application", name, "namespace", o.namespace, "run", r.ID)
	body, err := o.application(r)
	if err != nil {
		return err
	}
	if err := o.create(ctx, name, body); err != nil {
		return err
	}
	log.Info("spark application created", "from", r.From.UTC(), "to", r.To.UTC())
	start := time.Now()
	err = o.wait(ctx, name, log)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		o.remove(name, log)
		return fmt.Errorf("spark application %s stopped: %w", name, context.Cause(ctx))
	default:
		return err
	}
	log.Info("spark application completed", "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

func (o *Operator) path(name string) string {
	p := "/apis/" + sparkAPIVersion + "/namespaces/" + url.PathEscape(o.namespace) + "/" + sparkResource
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

// apiError is a Kubernetes Status returned with a failed request.
type apiError struct {
	Code    int
	Reason  string
	Message string
}

func (e *apiError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("kubernetes API: %d %s", e.Code, e.Reason)
	}
	return fmt.Sprintf("kubernetes API: %d %s: %s", e.Code, e.Reason, e.Message)
}

// do sends one request with the current service-account token and decodes
// a 2xx answer into out (when not nil).
func (o *Operator) do(ctx context.Context, method, path string, body []byte, out any) error {
	tok, err := readToken(o.tokenFile)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.base+path, rd)
	if err != nil {
		return fmt.Errorf("kubernetes API request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("kubernetes API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("kubernetes API %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &apiError{Code: resp.StatusCode}
		var st struct{ Reason, Message string }
		if json.Unmarshal(b, &st) == nil {
			e.Reason, e.Message = st.Reason, st.Message
		}
		if e.Reason == "" {
			e.Reason = http.StatusText(resp.StatusCode)
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("kubernetes API %s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func (o *Operator) create(ctx context.Context, name string, body []byte) error {
	err := o.do(ctx, http.MethodPost, o.path(""), body, nil)
	var ae *apiError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae) && (ae.Code == http.StatusConflict || ae.Reason == "AlreadyExists"):
		return fmt.Errorf("create spark application %s: it already exists: this run id was launched before (a retried run); the run is not launched twice, and the old application goes when its time to live ends: %w", name, err)
	default:
		return fmt.Errorf("create spark application %s: %w", name, err)
	}
}

// appStatus is the part of a SparkApplication's status the launcher reads.
type appStatus struct {
	Status struct {
		ApplicationState struct {
			State        string `json:"state"`
			ErrorMessage string `json:"errorMessage"`
		} `json:"applicationState"`
		DriverInfo struct {
			PodName string `json:"podName"`
		} `json:"driverInfo"`
	} `json:"status"`
}

// wait polls the application until it completes (nil) or fails, ctx ends,
// or it stays in a failing or unknown state (or unreadable) past
// StuckAfter.
func (o *Operator) wait(ctx context.Context, name string, log *slog.Logger) error {
	poll, maxPoll, stuckAfter := o.Poll, o.MaxPoll, o.StuckAfter
	if poll <= 0 {
		poll = 2 * time.Second
	}
	if maxPoll <= 0 {
		maxPoll = 15 * time.Second
	}
	maxPoll = max(maxPoll, poll)
	if stuckAfter <= 0 {
		stuckAfter = 5 * time.Minute
	}
	last := ""
	var troubleSince time.Time // when the state turned FAILING/UNKNOWN or unreadable
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		var st appStatus
		err := o.do(ctx, http.MethodGet, o.path(name), nil, &st)
		var ae *apiError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &ae) && ae.Code == http.StatusNotFound:
			return fmt.Errorf("spark application %s: deleted while it ran (by someone else, or its time to live is shorter than a run): %w", name, err)
		case err != nil:
			if troubleSince.IsZero() {
				troubleSince = time.Now()
			}
			if time.Since(troubleSince) > stuckAfter {
				return fmt.Errorf("spark application %s: state unreadable for %s: %w", name, stuckAfter, err)
			}
			log.Warn("spark application state unreadable; retrying", "err", err)
		default:
			as := st.Status.ApplicationState
			pod := st.Status.DriverInfo.PodName
			if as.State != last {
				log.Info("spark application state", "state", stateName(as.State), "driver", pod)
				last = as.State
			}
			switch as.State {
			case stateCompleted:
				return nil
			case stateFailed, stateSubmissionFailed:
				return failed(name, as.State, as.ErrorMessage, pod)
			case stateFailing, stateUnknown:
				if troubleSince.IsZero() {
					troubleSince = time.Now()
				}
				if time.Since(troubleSince) > stuckAfter {
					return failed(name, as.State+" for "+stuckAfter.String(), as.ErrorMessage, pod)
				}
			default:
				troubleSince = time.Time{}
			}
		}
		poll = min(poll+poll/2, maxPoll)
		timer.Reset(poll)
	}
}

func stateName(s string) string {
	if s == "" {
		return "(none yet)"
	}
	return s
}

func failed(name, state, msg, pod string) error {
	if msg == "" {
		msg = "no error message"
	}
	if pod == "" {
		pod = "(none)"
	}
	return fmt.Errorf("spark application %s %s: %s (driver pod %s)", name, state, msg, pod)
}

// remove deletes the application and, through foreground propagation, its
// driver and executor pods. It runs after the run's ctx ended, so it has
// its own deadline.
func (o *Operator) remove(name string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body := []byte(`{"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Foreground"}`)
	err := o.do(ctx, http.MethodDelete, o.path(name), body, nil)
	var ae *apiError
	switch {
	case err == nil:
		log.Info("spark application deleted: the driver is stopped before it commits")
	case errors.As(err, &ae) && ae.Code == http.StatusNotFound:
		log.Info("spark application already gone")
	default:
		log.Error("delete spark application: its driver may still run", "err", err)
	}
}
