package refdata

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeLake is the part of the Data Lake dfs/blob protocol the seeder uses:
// HEAD (properties), PUT ?resource=file (create), PATCH ?action=append and
// ?action=flush (upload), GET (download), for one path.
type fakeLake struct {
	mu      sync.Mutex
	exists  bool
	pending []byte
	data    []byte
	methods []string
}

func (f *fakeLake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.methods = append(f.methods, r.Method+" "+r.URL.Query().Get("resource")+r.URL.Query().Get("action"))
	notFound := func() {
		w.Header().Set("x-ms-error-code", "PathNotFound")
		w.WriteHeader(http.StatusNotFound)
	}
	switch {
	case r.Method == http.MethodHead:
		if !f.exists {
			notFound()
			return
		}
		w.Header().Set("Content-Length", "0")
		w.Header().Set("x-ms-resource-type", "file")
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut && r.URL.Query().Get("resource") == "file":
		f.exists, f.pending, f.data = true, nil, nil
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPatch && r.URL.Query().Get("action") == "append":
		b, _ := io.ReadAll(r.Body)
		f.pending = append(f.pending, b...)
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPatch && r.URL.Query().Get("action") == "flush":
		f.data = append([]byte(nil), f.pending...)
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && f.exists:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("x-ms-blob-type", "BlockBlob")
		w.Header().Set("ETag", `"0x1"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(f.data)
	default:
		notFound()
	}
}

func TestWriteModelsToDataLakeAndReadThemBack(t *testing.T) {
	_, _, models := Fleet(2, 10)
	var file bytes.Buffer
	if err := WriteModels(&file, models); err != nil {
		t.Fatal(err)
	}
	lake := &fakeLake{}
	srv := httptest.NewTLSServer(lake)
	defer srv.Close()
	src := Source{Credential: &staticCredential{}, ClientOptions: &azcore.ClientOptions{
		Transport: srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
	}}
	ctx := context.Background()
	loc, err := ParseLocation(srv.URL + "/reference/models.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := src.Exists(ctx, loc); err != nil || ok {
		t.Fatalf("exists before the upload = %v, %v", ok, err)
	}
	if err := src.Write(ctx, loc, file.Bytes()); err != nil {
		t.Fatal(err)
	}
	if ok, err := src.Exists(ctx, loc); err != nil || !ok {
		t.Fatalf("exists after the upload = %v, %v", ok, err)
	}
	got, err := src.ReadModels(ctx, loc.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(models) || got[0] != models[0] {
		t.Errorf("read back %d models, want %d", len(got), len(models))
	}
}

func TestLocalWriteAndExists(t *testing.T) {
	loc := Location{Local: t.TempDir() + "/ref/models.parquet"}
	src := Source{}
	if ok, err := src.Exists(context.Background(), loc); err != nil || ok {
		t.Fatalf("exists = %v, %v", ok, err)
	}
	if err := src.Write(context.Background(), loc, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if ok, err := src.Exists(context.Background(), loc); err != nil || !ok {
		t.Fatalf("exists after write = %v, %v", ok, err)
	}
}
