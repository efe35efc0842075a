package sparklaunch

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sluicehq/sluice/internal/crdschema"
	"github.com/sluicehq/sluice/internal/modroot"
)

const testNamespace = "sluice-test"

// fakeAPI stands in for the API server of a cluster with the Spark
// Operator's CRDs: it validates a created SparkApplication against the
// published CRD schema (and its pod templates as Kubernetes pods), checks
// the bearer token against the current one, and answers reads of the
// application with the states of script, one a read (the last repeats).
type fakeAPI struct {
	t    *testing.T
	crds *crdschema.CRDs

	mu       sync.Mutex
	token    string
	tokens   []string // every token a request carried
	rejected int      // requests with a stale or missing token
	apps     map[string]map[string]any
	script   []string
	errMsg   string
	pod      string
	reads    int
	deletes  []string // propagation policy of every DELETE
	onRead   func(n int)
	requests int
}

// publishedCRDs are loaded once: the Spark Operator's CRD is large.
var publishedCRDs = sync.OnceValues(func() (*crdschema.CRDs, error) {
	root, err := modroot.Find(".")
	if err != nil {
		return nil, err
	}
	return crdschema.Load(crdschema.Dir(root))
})

func newFakeAPI(t *testing.T, script ...string) *fakeAPI {
	crds, err := publishedCRDs()
	if err != nil {
		t.Fatalf("the published CRD schemas must be in ../shared/schemas/crds (or %s): %v", crdschema.SharedEnv, err)
	}
	return &fakeAPI{t: t, crds: crds, token: "token-1", apps: map[string]map[string]any{}, script: script}
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": msg})
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.tokens = append(f.tokens, tok)
	if tok != f.token {
		f.rejected++
		status(w, http.StatusUnauthorized, "Unauthorized", "stale token")
		return
	}
	collection := "/apis/sparkoperator.k8s.io/v1beta2/namespaces/" + testNamespace + "/sparkapplications"
	name, isItem := strings.CutPrefix(r.URL.Path, collection+"/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == collection:
		f.create(w, r)
	case r.Method == http.MethodGet && isItem:
		app, ok := f.apps[name]
		if !ok {
			status(w, http.StatusNotFound, "NotFound", name+" not found")
			return
		}
		state := f.script[min(f.reads, len(f.script)-1)]
		f.reads++
		st := map[string]any{"applicationState": map[string]any{"state": state}}
		if state == stateFailed || state == stateSubmissionFailed || state == stateFailing {
			st["applicationState"].(map[string]any)["errorMessage"] = f.errMsg
		}
		if f.pod != "" {
			st["driverInfo"] = map[string]any{"podName": f.pod}
		}
		app["status"] = st
		_ = json.NewEncoder(w).Encode(app)
		if f.onRead != nil {
			f.onRead(f.reads)
		}
	case r.Method == http.MethodDelete && isItem:
		var opts struct {
			Kind              string `json:"kind"`
			PropagationPolicy string `json:"propagationPolicy"`
		}
		if err := json.NewDecoder(r.Body).Decode(&opts); err != nil || opts.Kind != "DeleteOptions" {
			status(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("delete options: %v %q", err, opts.Kind))
			return
		}
		if _, ok := f.apps[name]; !ok {
			status(w, http.StatusNotFound, "NotFound", name+" not found")
			return
		}
		delete(f.apps, name)
		f.deletes = append(f.deletes, opts.PropagationPolicy)
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "status": "Success"})
	default:
		status(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" "+r.URL.Path)
	}
}

// create validates like an API server with the CRD installed, and like the
// operator's spark-submit, which reads the pod templates as pods.
func (f *fakeAPI) create(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		status(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", ct)
		return
	}
	var app map[string]any
	if err := json.NewDecoder(r.Body).Decode(&app); err != nil {
		status(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	apiVersion, _ := app["apiVersion"].(string)
	kind, _ := app["kind"].(string)
	crd, version, err := f.crds.Find(apiVersion, kind)
	if err != nil {
		status(w, http.StatusNotFound, "NotFound", err.Error())
		return
	}
	problems := crd.Validate(version, app)
	spec, _ := app["spec"].(map[string]any)
	for _, role := range []string{"driver", "executor"} {
		r, _ := spec[role].(map[string]any)
		if err := crdschema.DecodeStrict(r["template"], &corev1.PodTemplateSpec{}); err != nil {
			problems = append(problems, role+" pod template: "+err.Error())
		}
	}
	meta, _ := app["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if ns, _ := meta["namespace"].(string); ns != testNamespace {
		problems = append(problems, fmt.Sprintf("metadata.namespace %q, want %q", ns, testNamespace))
	}
	if !regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`).MatchString(name) || len(name) > 63 {
		problems = append(problems, fmt.Sprintf("metadata.name %q is not a DNS-1123 label", name))
	}
	if len(problems) > 0 {
		status(w, http.StatusUnprocessableEntity, "Invalid", strings.Join(problems, "; "))
		return
	}
	if _, ok := f.apps[name]; ok {
		status(w, http.StatusConflict, "AlreadyExists", fmt.Sprintf("sparkapplications.sparkoperator.k8s.io %q already exists", name))
		return
	}
	f.apps[name] = app
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(app)
}

func (f *fakeAPI) setToken(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = tok
}

// env is a fake API server and the service-account files of a pod that
// reaches it.
type env struct {
	api     *fakeAPI
	cluster cluster
	logs    *strings.Builder
	log     *slog.Logger
}

func newEnv(t *testing.T, api *fakeAPI) *env {
	srv := httptest.NewTLSServer(api)
	t.Cleanup(srv.Close)
	host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := cluster{
		host: host, port: port,
		tokenFile: filepath.Join(dir, "token"), caFile: filepath.Join(dir, "ca.crt"), nsFile: filepath.Join(dir, "namespace"),
	}
	write(t, c.tokenFile, api.token+"\n")
	write(t, c.caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	write(t, c.nsFile, testNamespace)
	logs := &strings.Builder{}
	return &env{api: api, cluster: c, logs: logs, log: slog.New(slog.NewTextHandler(&syncWriter{w: logs}, nil))}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const templateFile = "testdata/enrich-sparkapplication.json"

func (e *env) operator(t *testing.T, template string) *Operator {
	t.Helper()
	o, err := newOperator(template, e.cluster, e.log)
	if err != nil {
		t.Fatalf("newOperator: %v", err)
	}
	o.Poll, o.MaxPoll, o.StuckAfter = time.Millisecond, 5*time.Millisecond, time.Second
	return o
}

var testRun = Run{ID: 42, From: time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)}

func TestOperatorCompleted(t *testing.T) {
	api := newFakeAPI(t, "", "SUBMITTED", "RUNNING", "SUCCEEDING", "COMPLETED")
	e := newEnv(t, api)
	if err := e.operator(t, templateFile).Launch(context.Background(), testRun); err != nil {
		t.Fatalf("Launch: %v\nlogs:\n%s", err, e.logs)
	}
	app, ok := api.apps["enrich-run-42"]
	if !ok {
		t.Fatalf("no application enrich-run-42 created: %v", api.apps)
	}
	meta := app["metadata"].(map[string]any)
	if got := meta["labels"].(map[string]any)[RunLabel]; got != "42" {
		t.Errorf("label %s = %v, want 42", RunLabel, got)
	}
	if got := meta["labels"].(map[string]any)["app.kubernetes.io/part-of"]; got != "sluice" {
		t.Errorf("the template's labels are lost: part-of = %v", got)
	}
	var args []string
	for _, a := range app["spec"].(map[string]any)["arguments"].([]any) {
		args = append(args, a.(string))
	}
	if want := Args(testRun); !slices.Equal(args, want) {
		t.Errorf("arguments %q, want %q", args, want)
	}
	if api.reads != 5 {
		t.Errorf("%d reads of the state, want 5 (one per state up to COMPLETED)", api.reads)
	}
	if len(api.deletes) != 0 {
		t.Errorf("a completed application was deleted: %v", api.deletes)
	}
	for _, want := range []string{"spark application created", "state=RUNNING", "spark application completed"} {
		if !strings.Contains(e.logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, e.logs)
		}
	}
}

func TestOperatorFailed(t *testing.T) {
	for _, state := range []string{stateFailed, stateSubmissionFailed} {
		t.Run(state, func(t *testing.T) {
			api := newFakeAPI(t, "SUBMITTED", "RUNNING", state)
			api.errMsg, api.pod = "driver container failed with ExitCode: 1, Reason: Error", "enrich-run-42-driver"
			e := newEnv(t, api)
			err := e.operator(t, templateFile).Launch(context.Background(), testRun)
			if err == nil {
				t.Fatal("Launch of a failed application returned nil")
			}
			for _, want := range []string{state, api.errMsg, api.pod, "enrich-run-42"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestOperatorStuck(t *testing.T) {
	for _, state := range []string{stateUnknown, stateFailing} {
		t.Run(state, func(t *testing.T) {
			api := newFakeAPI(t, "RUNNING", state)
			api.errMsg = "node lost"
			e := newEnv(t, api)
			o := e.operator(t, templateFile)
			o.StuckAfter = 50 * time.Millisecond
			start := time.Now()
			err := o.Launch(context.Background(), testRun)
			if err == nil || !strings.Contains(err.Error(), state+" for 50ms") {
				t.Fatalf("Launch = %v, want an error for %s held past the bound", err, state)
			}
			if d := time.Since(start); d < 50*time.Millisecond {
				t.Errorf("gave up after %s, before the 50ms bound", d)
			}
		})
	}
	t.Run("recovers", func(t *testing.T) {
		// UNKNOWN for a moment (a node's heartbeat late) then running
		// again: not a failure.
		api := newFakeAPI(t, "RUNNING", "UNKNOWN", "UNKNOWN", "RUNNING", "COMPLETED")
		e := newEnv(t, api)
		if err := e.operator(t, templateFile).Launch(context.Background(), testRun); err != nil {
			t.Fatalf("Launch: %v", err)
		}
	})
}

func TestOperatorCancelDeletes(t *testing.T) {
	api := newFakeAPI(t, "SUBMITTED", "RUNNING")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := errors.New("run timed out")
	api.onRead = func(n int) {
		if n == 3 {
			cancel(stop)
		}
	}
	e := newEnv(t, api)
	err := e.operator(t, templateFile).Launch(ctx, testRun)
	if !errors.Is(err, stop) {
		t.Fatalf("Launch = %v, want the cancel cause", err)
	}
	if !slices.Equal(api.deletes, []string{"Foreground"}) {
		t.Errorf("deletes %v, want one with propagationPolicy Foreground", api.deletes)
	}
	if _, ok := api.apps["enrich-run-42"]; ok {
		t.Error("the application is still there after the cancel")
	}
}

func TestOperatorTokenRotation(t *testing.T) {
	api := newFakeAPI(t, "SUBMITTED", "RUNNING", "RUNNING", "RUNNING", "COMPLETED")
	e := newEnv(t, api)
	api.onRead = func(n int) {
		if n == 2 {
			// The kubelet rotates the projected token: the API server
			// accepts only the new one from here on.
			api.token = "token-2"
			write(t, e.cluster.tokenFile, "token-2\n")
		}
	}
	if err := e.operator(t, templateFile).Launch(context.Background(), testRun); err != nil {
		t.Fatalf("Launch: %v\nlogs:\n%s", err, e.logs)
	}
	if api.rejected != 0 {
		t.Errorf("%d requests with a stale token (tokens sent: %v)", api.rejected, api.tokens)
	}
	if !slices.Contains(api.tokens, "token-1") || !slices.Contains(api.tokens, "token-2") {
		t.Errorf("tokens sent %v, want both the first and the rotated one", api.tokens)
	}
}

func TestOperatorAlreadyExists(t *testing.T) {
	api := newFakeAPI(t, "COMPLETED")
	e := newEnv(t, api)
	o := e.operator(t, templateFile)
	if err := o.Launch(context.Background(), testRun); err != nil {
		t.Fatalf("first Launch: %v", err)
	}
	err := o.Launch(context.Background(), testRun)
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "retried run") {
		t.Fatalf("second Launch of run 42 = %v, want an error saying the application already exists", err)
	}
}

func TestOperatorInvalidApplication(t *testing.T) {
	// The fake must be able to refuse: a template with a field the CRD
	// does not have, and one whose pod template is not a pod.
	for name, edit := range map[string]func(app map[string]any){
		"unknown spec field": func(app map[string]any) { app["spec"].(map[string]any)["ttl"] = 60 },
		"pod template":       func(app map[string]any) { dig(app, "spec", "driver", "template", "spec")["volumeMount"] = []any{} },
		"enum":               func(app map[string]any) { app["spec"].(map[string]any)["mode"] = "local" },
	} {
		t.Run(name, func(t *testing.T) {
			api := newFakeAPI(t, "COMPLETED")
			e := newEnv(t, api)
			path := editTemplate(t, edit)
			err := e.operator(t, path).Launch(context.Background(), testRun)
			if err == nil || !strings.Contains(err.Error(), "Invalid") {
				t.Fatalf("Launch = %v, want the API server's Invalid", err)
			}
			if len(api.apps) != 0 {
				t.Errorf("an invalid application was created")
			}
		})
	}
}

func dig(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		m, _ = m[k].(map[string]any)
	}
	return m
}

func editTemplate(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	var app map[string]any
	if err := json.Unmarshal(b, &app); err != nil {
		t.Fatal(err)
	}
	edit(app)
	out, err := json.Marshal(app)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.json")
	write(t, path, string(out))
	return path
}

func TestNewOperatorBadConfig(t *testing.T) {
	api := newFakeAPI(t, "COMPLETED")
	e := newEnv(t, api)
	notJSON := filepath.Join(t.TempDir(), "app.json")
	write(t, notJSON, "apiVersion: sparkoperator.k8s.io/v1beta2\n")
	for name, tc := range map[string]struct {
		path string
		c    func(*cluster)
		want string
	}{
		"no file":    {path: filepath.Join(t.TempDir(), "missing.json"), want: "no such file"},
		"no path":    {path: "", want: "no path"},
		"not JSON":   {path: notJSON, want: "not a JSON object"},
		"kind":       {path: editTemplate(t, func(a map[string]any) { a["kind"] = "ScheduledSparkApplication" }), want: "want apiVersion"},
		"no class":   {path: editTemplate(t, func(a map[string]any) { delete(a["spec"].(map[string]any), "mainClass") }), want: "spec.mainClass"},
		"args":       {path: editTemplate(t, func(a map[string]any) { a["spec"].(map[string]any)["arguments"] = "--x" }), want: "spec.arguments"},
		"not in pod": {path: templateFile, c: func(c *cluster) { c.host = "" }, want: "not in a Kubernetes pod"},
		"no token":   {path: templateFile, c: func(c *cluster) { c.tokenFile += ".missing" }, want: "service account token"},
		"bad CA":     {path: templateFile, c: func(c *cluster) { c.caFile = c.nsFile }, want: "no PEM certificate"},
		"no ns file": {path: templateFile, c: func(c *cluster) { c.nsFile += ".missing" }, want: "namespace"},
		"valid":      {path: templateFile},
	} {
		t.Run(name, func(t *testing.T) {
			c := e.cluster
			if tc.c != nil {
				tc.c(&c)
			}
			_, err := newOperator(tc.path, c, e.log)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("newOperator: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("newOperator = %v, want an error with %q", err, tc.want)
			}
		})
	}
	if api.requests != 0 {
		t.Errorf("%d requests to the API server while only configuring", api.requests)
	}
}

func TestAppName(t *testing.T) {
	label := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	for _, id := range []int64{1, 42, 1<<63 - 1} {
		// The driver pod is <name>-driver: 63 characters at most.
		if n := AppName(Run{ID: id}); !label.MatchString(n) || len(n)+len("-driver") > 63 {
			t.Errorf("AppName(%d) = %q: not a DNS-1123 label that leaves room for -driver", id, n)
		}
	}
}
