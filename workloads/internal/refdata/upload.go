package refdata

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azdatalake/datalakeerror"
)

// Exists reports whether there is a file at loc.
func (s Source) Exists(ctx context.Context, loc Location) (bool, error) {
	if loc.Local != "" {
		_, err := os.Stat(loc.Local)
		switch {
		case err == nil:
			return true, nil
		case os.IsNotExist(err):
			return false, nil
		}
		return false, fmt.Errorf("stat %s: %w", loc, err)
	}
	client, err := s.client(loc)
	if err != nil {
		return false, err
	}
	if _, err := client.GetProperties(ctx, nil); err != nil {
		if datalakeerror.HasCode(err, datalakeerror.PathNotFound, datalakeerror.BlobNotFound, datalakeerror.ResourceNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("look up %s: %w", loc, err)
	}
	return true, nil
}

// Write puts data at loc, replacing what is there: a local file, or a Data
// Lake file (created, then written and flushed in one upload).
func (s Source) Write(ctx context.Context, loc Location, data []byte) error {
	if loc.Local != "" {
		if dir := filepath.Dir(loc.Local); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("write %s: %w", loc, err)
			}
		}
		if err := os.WriteFile(loc.Local, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", loc, err)
		}
		return nil
	}
	client, err := s.client(loc)
	if err != nil {
		return err
	}
	if _, err := client.Create(ctx, nil); err != nil {
		return fmt.Errorf("create %s: %w", loc, err)
	}
	if err := client.UploadBuffer(ctx, data, nil); err != nil {
		return fmt.Errorf("upload %s: %w", loc, err)
	}
	return nil
}
