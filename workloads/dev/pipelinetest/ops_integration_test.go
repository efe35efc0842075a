//go:build integration

package pipelinetest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/pipelinetest"
)

// With OPS_ADDR (as on Azure) the api binary serves /healthz, /readyz and
// /metrics there and nowhere else: clients on its public port see its
// routes, not how it is doing inside.
func TestAPIServesOpsEndpointsApart(t *testing.T) {
	opsAddr, err := localrun.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	api := pipelinetest.StartAPI(t, "OPS_ADDR="+opsAddr)
	if api.OpsAddr != opsAddr || api.OpsAddr == api.Addr {
		t.Fatalf("ops address %q, public %q", api.OpsAddr, api.Addr)
	}
	client := &http.Client{}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("http://" + api.Addr + "/v1/live"); code != http.StatusOK {
		t.Fatalf("public /v1/live: %d", code)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := get("http://" + api.Addr + p); code != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", p, code)
		}
		if code, body := get("http://" + opsAddr + p); code != http.StatusOK {
			t.Errorf("ops %s: %d %s", p, code, body)
		}
	}
	// The public port's requests are counted on the ops port.
	if _, body := get("http://" + opsAddr + "/metrics"); !strings.Contains(body, `sluice_api_requests_total{code="200",route="live"}`) {
		t.Errorf("ops /metrics does not count the public request:\n%.2000s", body)
	}
	if code, _ := get("http://" + opsAddr + "/v1/live"); code != http.StatusNotFound {
		t.Errorf("ops port serves the api's routes: %d", code)
	}
}
