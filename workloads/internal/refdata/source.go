package refdata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
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
// https://<account>.dfs|blob.core.windows.net/<filesystem>/<path>. Text
// before "://" that is not a URL scheme is part of a path. A URL carries
// no credentials, as the Data Lake is read with an Entra ID token: a
// password, user information in an https URL, or a query (a SAS token) is
// refused, and errors show the location with its password redacted. So is
// a filesystem name Data Lake Storage would refuse and an empty, "." or
// ".." path segment, which could leave the filesystem.
func ParseLocation(s string) (Location, error) {
	if s == "" {
		return Location{}, errors.New("empty reference-file location")
	}
	i := strings.Index(s, "://")
	if i < 0 || i > 0 && !schemePattern.MatchString(s[:i]) {
		return Location{Local: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.URL would repeat a password
		}
		return Location{}, fmt.Errorf("reference-file location is not a valid URL: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("reference-file location %q: %s", u.Redacted(), fmt.Sprintf(format, args...))
	}
	if _, ok := u.User.Password(); ok {
		return Location{}, bad("credentials do not belong in the URL; the file is read with an Entra ID token")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Location{}, bad("a query or fragment (a SAS token?) does not belong in the URL; the file is read with an Entra ID token")
	}
	switch u.Scheme {
	case "file":
		if u.User != nil || u.Host != "" && u.Host != "localhost" {
			return Location{}, bad("file URLs must be local (file:///path)")
		}
		if u.Path == "" {
			return Location{}, bad("want a path: file:///path")
		}
		return Location{Local: u.Path}, nil
	case "abfss":
		fs := u.User.Username()
		path := strings.TrimPrefix(u.Path, "/")
		if fs == "" || u.Hostname() == "" || path == "" {
			return Location{}, bad("want abfss://<filesystem>@<account>.dfs.core.windows.net/<path>")
		}
		if err := checkRemotePath(fs, path); err != nil {
			return Location{}, bad("%v", err)
		}
		return Location{URL: (&url.URL{Scheme: "https", Host: u.Host, Path: "/" + fs + "/" + path}).String()}, nil
	case "https":
		fs, path, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		if u.User != nil {
			return Location{}, bad("user information does not belong in the URL; the file is read with an Entra ID token")
		}
		if u.Hostname() == "" || fs == "" || path == "" {
			return Location{}, bad("want https://<account>.dfs.core.windows.net/<filesystem>/<path>")
		}
		if err := checkRemotePath(fs, path); err != nil {
			return Location{}, bad("%v", err)
		}
		return Location{URL: u.String()}, nil
	case "abfs", "http":
		return Location{}, bad("%s sends credentials without TLS; use abfss:// or https://", u.Scheme)
	}
	return Location{}, bad("unsupported scheme %q", u.Scheme)
}

var (
	// schemePattern is a URL scheme (RFC 3986).
	schemePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)
	// filesystemPattern is a Data Lake filesystem (container) name:
	// lower-case letters, digits and single hyphens between them, 3 to 63
	// characters (checked beside it).
	filesystemPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// checkRemotePath checks a Data Lake filesystem name and the file's path
// in it.
func checkRemotePath(fs, path string) error {
	if len(fs) < 3 || len(fs) > 63 || !filesystemPattern.MatchString(fs) {
		return fmt.Errorf("filesystem %q is not a Data Lake filesystem name (3-63 lower-case letters, digits and single hyphens between them)", fs)
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("path %q has an empty, \".\" or \"..\" segment", path)
		}
	}
	return nil
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
