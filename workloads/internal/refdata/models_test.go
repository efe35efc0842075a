package refdata

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/parquet-go/parquet-go"
)

func encode[T any](t testing.TB, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestModelsRoundTrip(t *testing.T) {
	_, _, models := Fleet(12, 500)
	var buf bytes.Buffer
	if err := WriteModels(&buf, models); err != nil {
		t.Fatal(err)
	}
	got, err := ParseModels(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(models) {
		t.Fatalf("read %d models, wrote %d", len(got), len(models))
	}
	for i := range models {
		if got[i] != models[i] {
			t.Errorf("model %d: read %+v, wrote %+v", i, got[i], models[i])
		}
	}
}

// A file from another tool: nullable columns, float thresholds, no range
// columns, an extra column.
type foreignModel struct {
	Model  *string  `parquet:"model,optional"`
	Kind   *string  `parquet:"kind,optional"`
	Warn   *float32 `parquet:"warn_threshold,optional"`
	Crit   *float32 `parquet:"crit_threshold,optional"`
	Vendor string   `parquet:"vendor"`
	Notes  string   `parquet:"notes"`
}

func ptr[T any](v T) *T { return &v }

func TestParseModelsAcceptsCompatibleFiles(t *testing.T) {
	data := encode(t, []foreignModel{{Model: ptr("x-1"), Kind: ptr("co2"), Warn: ptr[float32](1500), Crit: ptr[float32](2500), Vendor: "V", Notes: "n"}})
	got, err := ParseModels(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Model{Model: "x-1", Kind: "co2", Vendor: "V", WarnThreshold: 1500, CritThreshold: 2500}
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

type noThresholds struct {
	Model string `parquet:"model"`
	Kind  string `parquet:"kind"`
}

type textThresholds struct {
	Model string `parquet:"model"`
	Kind  string `parquet:"kind"`
	Warn  string `parquet:"warn_threshold"`
	Crit  string `parquet:"crit_threshold"`
}

func TestParseModelsRejectsMalformedFiles(t *testing.T) {
	_, _, models := Fleet(1, 1)
	var good bytes.Buffer
	if err := WriteModels(&good, models); err != nil {
		t.Fatal(err)
	}
	withModel := func(change func(*Model)) []byte {
		ms := append([]Model(nil), models...)
		change(&ms[0])
		var b bytes.Buffer
		if err := WriteModels(&b, ms); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"not parquet":        {[]byte("model,kind\nco2-m1,co2\n"), "not a readable Parquet file"},
		"truncated":          {good.Bytes()[:good.Len()/2], "not a readable Parquet file"},
		"empty":              {nil, "not a readable Parquet file"},
		"missing column":     {encode(t, []noThresholds{{"m", "co2"}}), `column "warn_threshold" is missing`},
		"wrong column type":  {encode(t, []textThresholds{{"m", "co2", "high", "higher"}}), `column "warn_threshold" has type`},
		"null threshold":     {encode(t, []foreignModel{{Model: ptr("m"), Kind: ptr("co2"), Crit: ptr[float32](1)}}), "must not be null"},
		"warn above crit":    {withModel(func(m *Model) { m.WarnThreshold = m.CritThreshold + 1 }), "is above crit_threshold"},
		"infinite threshold": {withModel(func(m *Model) { m.CritThreshold = math.Inf(1) }), "finite"},
		"duplicate model":    {withModel(func(m *Model) { m.Model = models[1].Model }), "repeats row"},
		"empty model":        {withModel(func(m *Model) { m.Model = "" }), "model must match"},
		"bad kind":           {withModel(func(m *Model) { m.Kind = "CO 2" }), "kind must match"},
		"no rows":            {encode(t, []Model{}), "no rows"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseModels(c.data)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to say %q", err, c.want)
			}
		})
	}
}

// TestSeedFleetIsConsistent checks what the enrich job relies on in the
// seed: every device points at a site and a model that exist, each once,
// and the models pass the same validation as a loaded file. (The fields
// themselves are copied from the simulator's fleet, so comparing them with
// it would prove nothing.)
func TestSeedFleetIsConsistent(t *testing.T) {
	sites, devices, models := Fleet(12, 500)
	if len(sites) != 12 || len(devices) != 500 {
		t.Fatalf("fleet of %d sites and %d devices, want 12 and 500", len(sites), len(devices))
	}
	siteIDs := map[string]bool{}
	for _, s := range sites {
		if siteIDs[s.ID] {
			t.Errorf("site %s twice", s.ID)
		}
		siteIDs[s.ID] = true
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			t.Errorf("site %s: %v", s.ID, err)
		}
	}
	modelIDs := map[string]bool{}
	for _, m := range models {
		if modelIDs[m.Model] {
			t.Errorf("model %s twice", m.Model)
		}
		modelIDs[m.Model] = true
	}
	deviceIDs := map[string]bool{}
	for _, d := range devices {
		if deviceIDs[d.ID] {
			t.Errorf("device %s twice", d.ID)
		}
		deviceIDs[d.ID] = true
		if !siteIDs[d.SiteID] || !modelIDs[d.Model] {
			t.Errorf("device %s: site %s known %v, model %s known %v", d.ID, d.SiteID, siteIDs[d.SiteID], d.Model, modelIDs[d.Model])
		}
	}
	if _, err := validate(toWire(models)); err != nil {
		t.Errorf("seed models do not validate: %v", err)
	}
}

func toWire(ms []Model) []wireModel {
	out := make([]wireModel, len(ms))
	for i, m := range ms {
		out[i] = wireModel{Model: ptr(m.Model), Kind: ptr(m.Kind), Unit: ptr(m.Unit), Vendor: ptr(m.Vendor),
			WarnThreshold: ptr(m.WarnThreshold), CritThreshold: ptr(m.CritThreshold), RangeMin: ptr(m.RangeMin), RangeMax: ptr(m.RangeMax)}
	}
	return out
}

func TestParseLocation(t *testing.T) {
	cases := map[string]Location{
		"/data/models.parquet":        {Local: "/data/models.parquet"},
		"rel/models.parquet":          {Local: "rel/models.parquet"},
		"file:///data/models.parquet": {Local: "/data/models.parquet"},
		"abfss://reference@sluicedl.dfs.core.windows.net/models/device_models.parquet": {
			URL: "https://sluicedl.dfs.core.windows.net/reference/models/device_models.parquet"},
		"https://sluicedl.blob.core.windows.net/reference/device_models.parquet": {
			URL: "https://sluicedl.blob.core.windows.net/reference/device_models.parquet"},
	}
	for in, want := range cases {
		got, err := ParseLocation(in)
		if err != nil || got != want {
			t.Errorf("ParseLocation(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abfss://sluicedl.dfs.core.windows.net/x", "abfss://fs@acct.dfs.core.windows.net/",
		"http://acct.blob.core.windows.net/fs/x", "abfs://fs@acct.dfs.core.windows.net/x", "s3://bucket/x", "https://acct.blob.core.windows.net/onlyfs"} {
		if _, err := ParseLocation(bad); err == nil {
			t.Errorf("ParseLocation(%q) accepted", bad)
		}
	}
}

func TestReadModelsFromLocalFile(t *testing.T) {
	_, _, models := Fleet(2, 10)
	path := filepath.Join(t.TempDir(), "ref", "models.parquet")
	if err := WriteModelsFile(path, models); err != nil {
		t.Fatal(err)
	}
	got, err := Source{}.ReadModels(context.Background(), path)
	if err != nil || len(got) != len(models) {
		t.Fatalf("read %d models, err %v", len(got), err)
	}
	if _, err := (Source{MaxBytes: 10}).ReadModels(context.Background(), path); err == nil || !strings.Contains(err.Error(), "larger than 10 bytes") {
		t.Errorf("size limit not enforced: %v", err)
	}
	if _, err := (Source{}).ReadModels(context.Background(), filepath.Join(t.TempDir(), "missing.parquet")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

type staticCredential struct{ calls int }

func (c *staticCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls++
	return azcore.AccessToken{Token: "test-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestReadModelsFromDataLake serves the file from a local TLS server the
// way the Data Lake blob endpoint does, and checks the SDK sends the token.
func TestReadModelsFromDataLake(t *testing.T) {
	_, _, models := Fleet(2, 10)
	var file bytes.Buffer
	if err := WriteModels(&file, models); err != nil {
		t.Fatal(err)
	}
	var gotPath, gotAuth string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		if r.Method != http.MethodGet {
			http.Error(w, "unexpected method", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("x-ms-blob-type", "BlockBlob")
		w.Header().Set("ETag", `"0x1"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(file.Bytes())
	}))
	defer srv.Close()
	cred := &staticCredential{}
	src := Source{Credential: cred, ClientOptions: &azcore.ClientOptions{
		Transport: srv.Client(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
	got, err := src.ReadModels(context.Background(), srv.URL+"/reference/models/device_models.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(models) || got[0] != models[0] {
		t.Errorf("read %d models (%+v), want %d", len(got), got, len(models))
	}
	if gotPath != "/reference/models/device_models.parquet" {
		t.Errorf("requested %s", gotPath)
	}
	if gotAuth != "Bearer test-token" || cred.calls == 0 {
		t.Errorf("authorization %q after %d token calls", gotAuth, cred.calls)
	}
}

func TestUnreachableStoreFailsClearly(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	client := srv.Client()
	url := srv.URL
	srv.Close() // nothing listens there any more
	src := Source{Credential: &staticCredential{}, ClientOptions: &azcore.ClientOptions{
		Transport: client, Retry: policy.RetryOptions{MaxRetries: -1},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := src.ReadModels(ctx, url+"/reference/device_models.parquet")
	if err == nil || !strings.Contains(err.Error(), "download "+url+"/reference/device_models.parquet") {
		t.Errorf("err = %v, want a download error naming the file", err)
	}
}
