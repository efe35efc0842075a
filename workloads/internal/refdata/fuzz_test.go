package refdata

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// validModels is a device-model file written the way `enrich seed` writes it.
func validModels(f *testing.F) []byte {
	f.Helper()
	_, _, models := Fleet(3, 40)
	var buf bytes.Buffer
	if err := WriteModels(&buf, models); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// withFooterLength is file with the footer length of its trailer replaced.
func withFooterLength(file []byte, n uint32) []byte {
	out := bytes.Clone(file)
	binary.LittleEndian.PutUint32(out[len(out)-8:], n)
	return out
}

// maxParseAlloc bounds what ParseModels may allocate for a file of n
// bytes: a small constant plus a multiple of the file, never what a
// length inside the file claims.
func maxParseAlloc(n int) uint64 { return 64<<20 + 64*uint64(n) }

// FuzzParseModels feeds ParseModels arbitrary bytes as a Parquet file: it
// returns models or an ErrMalformed error, never panics, allocates no more
// than maxParseAlloc whatever the footer or page headers claim, and what
// it accepts is valid and survives a write and a read unchanged.
func FuzzParseModels(f *testing.F) {
	valid := validModels(f)
	foreign := encode(f, []foreignModel{{Model: ptr("x-1"), Kind: ptr("co2"), Warn: ptr[float32](1500), Crit: ptr[float32](2500), Vendor: "V", Notes: "n"}})
	for _, seed := range [][]byte{
		valid,
		foreign,
		valid[:len(valid)/2],
		valid[:len(valid)-1],
		withFooterLength(valid, 0xFFFFFFF0),
		withFooterLength(valid, uint32(len(valid))),
		withFooterLength(valid, 0),
		[]byte("PAR1PAR1"),
		[]byte("PAR1\x00\x00\x00\x00PAR1"),
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		models, err := ParseModels(data)
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > maxParseAlloc(len(data)) {
			t.Fatalf("parsing %d bytes allocated %d MiB", len(data), got>>20)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if _, err := validate(wire(models)); err != nil {
			t.Fatalf("accepted models do not validate: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteModels(&buf, models); err != nil {
			t.Fatalf("accepted models do not write: %v", err)
		}
		again, err := ParseModels(buf.Bytes())
		if err != nil || len(again) != len(models) {
			t.Fatalf("accepted models do not read back: %d of %d, %v", len(again), len(models), err)
		}
		for i := range models {
			if again[i] != models[i] {
				t.Fatalf("model %d changed in a round trip: %+v, then %+v", i, models[i], again[i])
			}
		}
	})
}

func wire(models []Model) []wireModel {
	out := make([]wireModel, len(models))
	for i, m := range models {
		out[i] = wireModel{Model: &m.Model, Kind: &m.Kind, Unit: &m.Unit, Vendor: &m.Vendor, WarnThreshold: &m.WarnThreshold,
			CritThreshold: &m.CritThreshold, RangeMin: &m.RangeMin, RangeMax: &m.RangeMax}
	}
	return out
}

// dataLakeFilesystem is Azure's rule for a filesystem (container) name:
// 3-63 lower-case letters, digits and hyphens, starting and ending with a
// letter or digit, no two hyphens in a row.
func dataLakeFilesystem(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// FuzzParseLocation: every location is refused with an error naming it
// (without its credentials) or parsed to exactly one of a local path and
// an https URL; a URL has a host, no credentials, a valid filesystem as
// its first segment and no dot segments; the result parses again to
// itself.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{
		"/data/models.parquet", "rel/models.parquet", "file:///data/models.parquet", "file://localhost/data/m.parquet", "file://",
		"file://host/x", "abfss://reference@sluicedl.dfs.core.windows.net/models/device_models.parquet",
		"abfss://ref:secret@sluicedl.dfs.core.windows.net/m.parquet", "abfss://Bad_FS@acct.dfs.core.windows.net/m.parquet",
		"abfss://reference@acct.dfs.core.windows.net/../other/m.parquet", "abfss://a%2Fb@acct.dfs.core.windows.net/m.parquet",
		"https://sluicedl.blob.core.windows.net/reference/device_models.parquet", "https://user:pw@acct.blob.core.windows.net/fs/x",
		"https://acct.blob.core.windows.net/fs/x?sv=2024&sig=secret", "https://127.0.0.1:8443/reference/m.parquet",
		"http://acct.blob.core.windows.net/fs/x", "s3://bucket/x", "", "://", "a://b://c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := ParseLocation(s)
		if err != nil {
			if u, perr := url.Parse(s); perr == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && len(pw) >= 4 && strings.Contains(err.Error(), pw) {
					t.Fatalf("the error shows the password: %v", err)
				}
			}
			if strings.Contains(s, "://") && err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if u, perr := url.Parse(s); perr == nil && strings.Contains(s, "://") && u.User != nil {
			if _, ok := u.User.Password(); ok {
				t.Fatalf("%q with a password accepted as %+v", s, loc)
			}
		}
		if (loc.Local == "") == (loc.URL == "") {
			t.Fatalf("%q parsed to %+v: want exactly one of a path and a URL", s, loc)
		}
		if loc.URL != "" {
			u, err := url.Parse(loc.URL)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				t.Fatalf("%q parsed to URL %q: want https, a host, no credentials, query or fragment (%v)", s, loc.URL, err)
			}
			segs := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
			if len(segs) < 2 || !dataLakeFilesystem(segs[0]) {
				t.Fatalf("%q parsed to URL %q: want /<filesystem>/<path> with a valid filesystem name", s, loc.URL)
			}
			for _, seg := range segs[1:] {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("%q parsed to URL %q: an empty or dot segment", s, loc.URL)
				}
			}
		}
		again, err := ParseLocation(loc.String())
		if err != nil || again != loc {
			t.Fatalf("%q parsed to %+v, which parses to %+v, %v", s, loc, again, err)
		}
	})
}
