package pgmigrate

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestEmbeddedMigrationsAreVersionedAndReversible(t *testing.T) {
	entries, err := fs.ReadDir(Migrations(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 2 {
		t.Fatalf("found %d migration files, want at least 2", len(entries))
	}
	for i, e := range entries {
		b, err := fs.ReadFile(Migrations(), e.Name())
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.Contains(s, "-- +goose Up") || !strings.Contains(s, "-- +goose Down") {
			t.Errorf("%s lacks an Up or Down section", e.Name())
		}
		if strings.Count(s, "-- +goose StatementBegin") != strings.Count(s, "-- +goose StatementEnd") {
			t.Errorf("%s has unbalanced StatementBegin/End", e.Name())
		}
		if want := i + 1; !strings.HasPrefix(e.Name(), fmt.Sprintf("%05d_", want)) {
			t.Errorf("migration %d is named %s: versions must be consecutive", want, e.Name())
		}
	}
	latest, err := Latest()
	if err != nil {
		t.Fatal(err)
	}
	if latest != int64(len(entries)) {
		t.Errorf("Latest() = %d, want %d", latest, len(entries))
	}
}

func TestQuoting(t *testing.T) {
	if got := quoteLiteral(`it's`); got != `'it''s'` {
		t.Errorf("quoteLiteral = %s", got)
	}
	if got := quoteIdent(`a"b`); got != `"a""b"` {
		t.Errorf("quoteIdent = %s", got)
	}
}
