package stackreaper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Listed is one entry of `pulumi stack ls --json`.
type Listed struct {
	Name             string
	LastUpdate       time.Time
	UpdateInProgress bool
}

// stackLsEntry mirrors the JSON the Pulumi CLI prints for `stack ls --json`.
type stackLsEntry struct {
	Name             *string `json:"name"`
	LastUpdate       string  `json:"lastUpdate"`
	UpdateInProgress *bool   `json:"updateInProgress"`
}

// ParseStackList decodes `pulumi stack ls --json` output. Every entry must have a
// name; lastUpdate, when present, must be an RFC 3339 time (the CLI prints
// millisecond precision, which RFC 3339 parsing accepts).
func ParseStackList(data []byte) ([]Listed, error) {
	var entries []stackLsEntry
	if err := decodeStrict(data, &entries); err != nil {
		return nil, fmt.Errorf("parse stack list: %w", err)
	}
	out := make([]Listed, 0, len(entries))
	var errs []error
	for i, e := range entries {
		if e.Name == nil || *e.Name == "" {
			errs = append(errs, fmt.Errorf("entry %d has no name", i))
			continue
		}
		l := Listed{Name: *e.Name}
		if e.UpdateInProgress != nil {
			l.UpdateInProgress = *e.UpdateInProgress
		}
		if e.LastUpdate != "" {
			t, err := time.Parse(time.RFC3339Nano, e.LastUpdate)
			if err != nil {
				errs = append(errs, fmt.Errorf("stack %s: lastUpdate %q is not an RFC 3339 time", l.Name, e.LastUpdate))
				continue
			}
			l.LastUpdate = t
		}
		out = append(out, l)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("parse stack list: %w", err)
	}
	return out, nil
}

// ParseTags decodes `pulumi stack tag ls --json` output: an object of tag names to
// string values.
func ParseTags(data []byte) (map[string]string, error) {
	tags := map[string]string{}
	if err := decodeStrict(data, &tags); err != nil {
		return nil, fmt.Errorf("parse stack tags: %w", err)
	}
	return tags, nil
}

// configEntry mirrors one value of `pulumi config --json`.
type configEntry struct {
	Value       *string         `json:"value"`
	ObjectValue json.RawMessage `json:"objectValue"`
	Secret      bool            `json:"secret"`
}

// ParseConfig decodes `pulumi config --json` output and keeps the plain string
// values. Secret values (printed without a value) and structured values are left out:
// the rules only read scalar keys.
func ParseConfig(data []byte) (map[string]string, error) {
	raw := map[string]configEntry{}
	if err := decodeStrict(data, &raw); err != nil {
		return nil, fmt.Errorf("parse stack config: %w", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if v.Secret || v.Value == nil || len(v.ObjectValue) > 0 {
			continue
		}
		out[k] = *v.Value
	}
	return out, nil
}

// decodeStrict decodes exactly one JSON value and rejects trailing data, so a
// truncated or concatenated CLI output is an error rather than a partial result.
func decodeStrict(data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return errors.New("empty input")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after json value")
	}
	return nil
}
