package refdata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azdatalake/file"
)

// DefaultMaxBytes bounds the size of a reference file read into memory.
const DefaultMaxBytes = 256 << 20

// Source says how remote files are reached. The zero value uses
// azidentity's default credential and the SDK's transport.
type Source struct {
	// Credential authenticates to Data Lake Storage; nil means a new
	// azidentity.NewDefaultAzureCredential for each read, so a caller that
	// reads more than once passes its own.
	Credential azcore.TokenCredential
	// ClientOptions override the Azure SDK client options (tests point the
	// transport at a local server).
	ClientOptions *azcore.ClientOptions
	// MaxBytes bounds the file size; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Location is a parsed reference-file address.
type Location struct {
	// Local is a filesystem path; empty for remote files.
	Local string
	// URL is the https URL of a remote file.
	URL string
}

// ParseLocation understands a path, file:///path,
// abfss://<filesystem>@<account>.dfs.core.windows.net/<path> and
// https://<account>.dfs|blob.core.windows.net/<filesystem>/<path>.
func ParseLocation(s string) (Location, error) {
	if s == "" {
		return Location{}, errors.New("empty reference-file location")
	}
	if !strings.Contains(s, "://") {
		return Location{Local: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return Location{}, fmt.Errorf("reference-file location %q: %w", s, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return Location{}, fmt.Errorf("reference-file location %q: file URLs must be local", s)
		}
		return Location{Local: u.Path}, nil
	case "abfss":
		fs := u.User.Username()
		if fs == "" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return Location{}, fmt.Errorf("reference-file location %q: want abfss://<filesystem>@<account>.dfs.core.windows.net/<path>", s)
		}
		return Location{URL: (&url.URL{Scheme: "https", Host: u.Host, Path: "/" + fs + "/" + strings.TrimLeft(u.Path, "/")}).String()}, nil
	case "https":
		if u.Host == "" || strings.Count(strings.Trim(u.Path, "/"), "/") < 1 {
			return Location{}, fmt.Errorf("reference-file location %q: want https://<account>.dfs.core.windows.net/<filesystem>/<path>", s)
		}
		return Location{URL: u.String()}, nil
	case "abfs", "http":
		return Location{}, fmt.Errorf("reference-file location %q: %s sends credentials without TLS; use abfss:// or https://", s, u.Scheme)
	}
	return Location{}, fmt.Errorf("reference-file location %q: unsupported scheme %q", s, u.Scheme)
}

// String is the location as given to users in messages.
func (l Location) String() string {
	if l.Local != "" {
		return l.Local
	}
	return l.URL
}

// Read returns the whole file at loc.
func (s Source) Read(ctx context.Context, loc Location) ([]byte, error) {
	limit := s.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if loc.Local != "" {
		f, err := os.Open(loc.Local)
		if err != nil {
			return nil, fmt.Errorf("open reference file: %w", err)
		}
		defer f.Close()
		return readLimited(f, limit, loc)
	}
	client, err := s.client(loc)
	if err != nil {
		return nil, err
	}
	// The whole file; an explicit range also lets the retry reader resume
	// a broken body at the right offset.
	resp, err := client.DownloadStream(ctx, &file.DownloadStreamOptions{Range: &file.HTTPRange{}})
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", loc, err)
	}
	body := resp.NewRetryReader(ctx, &file.RetryReaderOptions{MaxRetries: 3})
	defer body.Close()
	return readLimited(body, limit, loc)
}

// client is the Data Lake client of a remote file.
func (s Source) client(loc Location) (*file.Client, error) {
	cred := s.Credential
	if cred == nil {
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("azure credential for %s: %w", loc, err)
		}
		cred = c
	}
	opts := &file.ClientOptions{}
	if s.ClientOptions != nil {
		opts.ClientOptions = *s.ClientOptions
	} else {
		opts.ClientOptions.Retry = policy.RetryOptions{MaxRetries: 3, TryTimeout: time.Minute, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 4 * time.Second}
	}
	client, err := file.NewClient(loc.URL, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("data lake client for %s: %w", loc, err)
	}
	return client, nil
}

func readLimited(r io.Reader, limit int64, loc Location) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", loc, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes; reference files are read into memory", loc, limit)
	}
	return b, nil
}

// ReadModels reads and validates the device-model file at location.
func (s Source) ReadModels(ctx context.Context, location string) ([]Model, error) {
	loc, err := ParseLocation(location)
	if err != nil {
		return nil, err
	}
	b, err := s.Read(ctx, loc)
	if err != nil {
		return nil, err
	}
	models, err := ParseModels(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	return models, nil
}
