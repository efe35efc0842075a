package refdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"

	"github.com/parquet-go/parquet-go"
)

// Model is one device model and its thresholds: a reading at or above
// WarnThreshold is a warning, at or above CritThreshold critical.
type Model struct {
	Model         string  `parquet:"model"`
	Kind          string  `parquet:"kind"`
	Unit          string  `parquet:"unit"`
	Vendor        string  `parquet:"vendor"`
	WarnThreshold float64 `parquet:"warn_threshold"`
	CritThreshold float64 `parquet:"crit_threshold"`
	RangeMin      float64 `parquet:"range_min"`
	RangeMax      float64 `parquet:"range_max"`
}

// wireModel is how a file is read: every column optional, so files from
// tools that write nullable columns are accepted and a null can be told
// from a zero.
type wireModel struct {
	Model         *string  `parquet:"model,optional"`
	Kind          *string  `parquet:"kind,optional"`
	Unit          *string  `parquet:"unit,optional"`
	Vendor        *string  `parquet:"vendor,optional"`
	WarnThreshold *float64 `parquet:"warn_threshold,optional"`
	CritThreshold *float64 `parquet:"crit_threshold,optional"`
	RangeMin      *float64 `parquet:"range_min,optional"`
	RangeMax      *float64 `parquet:"range_max,optional"`
}

// ErrMalformed is wrapped by every error about a file's content (as opposed
// to reaching it).
var ErrMalformed = errors.New("malformed device-model file")

// columns a file must have, with the physical types accepted for each.
var requiredColumns = []struct {
	name  string
	kinds []parquet.Kind
}{
	{"model", []parquet.Kind{parquet.ByteArray}},
	{"kind", []parquet.Kind{parquet.ByteArray}},
	{"warn_threshold", []parquet.Kind{parquet.Double, parquet.Float}},
	{"crit_threshold", []parquet.Kind{parquet.Double, parquet.Float}},
}

// optionalColumns may be missing; when present they must have these types.
var optionalColumns = []struct {
	name  string
	kinds []parquet.Kind
}{
	{"unit", []parquet.Kind{parquet.ByteArray}},
	{"vendor", []parquet.Kind{parquet.ByteArray}},
	{"range_min", []parquet.Kind{parquet.Double, parquet.Float}},
	{"range_max", []parquet.Kind{parquet.Double, parquet.Float}},
}

// ModelPattern and KindPattern are what a model's name and kind must match
// (the Spark enrich job applies them too).
var (
	ModelPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	KindPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// WriteModels writes models as a zstd-compressed Parquet file.
func WriteModels(w io.Writer, models []Model) error {
	pw := parquet.NewGenericWriter[Model](w, parquet.Compression(&parquet.Zstd))
	if _, err := pw.Write(models); err != nil {
		return fmt.Errorf("write device models: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("finish device-model file: %w", err)
	}
	return nil
}

// WriteModelsFile writes the file atomically: readers see the old file or
// the complete new one.
func WriteModelsFile(path string, models []Model) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".models-*.parquet")
	if err != nil {
		return fmt.Errorf("create device-model file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := WriteModels(tmp, models); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("move device-model file into place: %w", err)
	}
	return nil
}

// ParseModels reads and validates a Parquet file of device models.
func ParseModels(data []byte) (models []Model, err error) {
	// parquet-go panics on some inputs (its reader constructor cannot
	// return errors); a reference file is untrusted input, so a panic is a
	// malformed file, not a crash.
	defer func() {
		if r := recover(); r != nil {
			models, err = nil, fmt.Errorf("%w: %v", ErrMalformed, r)
		}
	}()
	// Every length parquet-go will allocate by is checked first (bounds.go).
	footer, err := footerOf(data)
	if err != nil {
		return nil, fmt.Errorf("%w: not a readable Parquet file: %v", ErrMalformed, err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%w: not a readable Parquet file: %v", ErrMalformed, err)
	}
	if err := checkMetadata(f.Metadata(), data, int64(len(data)-8-len(footer))); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkColumns(f.Schema()); err != nil {
		return nil, err
	}
	target := parquet.SchemaOf(wireModel{})
	if _, err := parquet.Convert(target, f.Schema()); err != nil {
		return nil, fmt.Errorf("%w: columns cannot be read as device models: %v", ErrMalformed, err)
	}
	r := parquet.NewGenericReader[wireModel](f, target)
	defer r.Close()
	rows := make([]wireModel, 0, f.NumRows()) // at most MaxModels (checkMetadata)
	buf := make([]wireModel, 256)
	for {
		n, err := r.Read(buf)
		rows = append(rows, buf[:n]...)
		if len(rows) > MaxModels {
			return nil, fmt.Errorf("%w: more than %d rows", ErrMalformed, MaxModels)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: read rows: %v", ErrMalformed, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: reader made no progress", ErrMalformed)
		}
	}
	return validate(rows)
}

func checkColumns(s *parquet.Schema) error {
	check := func(name string, kinds []parquet.Kind, required bool) error {
		leaf, ok := s.Lookup(name)
		if !ok {
			if required {
				return fmt.Errorf("%w: column %q is missing", ErrMalformed, name)
			}
			return nil
		}
		got := leaf.Node.Type().Kind()
		for _, k := range kinds {
			if got == k {
				return nil
			}
		}
		return fmt.Errorf("%w: column %q has type %s, want %v", ErrMalformed, name, got, kinds)
	}
	for _, c := range requiredColumns {
		if err := check(c.name, c.kinds, true); err != nil {
			return err
		}
	}
	for _, c := range optionalColumns {
		if err := check(c.name, c.kinds, false); err != nil {
			return err
		}
	}
	return nil
}

func validate(rows []wireModel) ([]Model, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: no rows", ErrMalformed)
	}
	seen := make(map[string]int, len(rows))
	out := make([]Model, len(rows))
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for i, w := range rows {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: row %d (model %q): %s", ErrMalformed, i+1, str(w.Model), fmt.Sprintf(format, args...))
		}
		m := Model{Model: str(w.Model), Kind: str(w.Kind), Unit: str(w.Unit), Vendor: str(w.Vendor)}
		if !ModelPattern.MatchString(m.Model) {
			return nil, bad("model must match %s", ModelPattern)
		}
		if prev, dup := seen[m.Model]; dup {
			return nil, bad("model repeats row %d", prev)
		}
		seen[m.Model] = i + 1
		if !KindPattern.MatchString(m.Kind) {
			return nil, bad("kind must match %s", KindPattern)
		}
		if w.WarnThreshold == nil || w.CritThreshold == nil {
			return nil, bad("warn_threshold and crit_threshold must not be null")
		}
		m.WarnThreshold, m.CritThreshold = *w.WarnThreshold, *w.CritThreshold
		if !finite(m.WarnThreshold) || !finite(m.CritThreshold) {
			return nil, bad("thresholds must be finite numbers")
		}
		if m.WarnThreshold > m.CritThreshold {
			return nil, bad("warn_threshold %g is above crit_threshold %g", m.WarnThreshold, m.CritThreshold)
		}
		if w.RangeMin != nil {
			m.RangeMin = *w.RangeMin
		}
		if w.RangeMax != nil {
			m.RangeMax = *w.RangeMax
		}
		if !finite(m.RangeMin) || !finite(m.RangeMax) || m.RangeMin > m.RangeMax {
			return nil, bad("range_min %g and range_max %g are not a finite range", m.RangeMin, m.RangeMax)
		}
		out[i] = m
	}
	return out, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
