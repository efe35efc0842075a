package cqlsession

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

// fakeSession records which password it was opened with and whether it
// was closed.
type fakeSession struct {
	password string
	mu       sync.Mutex
	closed   bool
}

func (f *fakeSession) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
}

func (f *fakeSession) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// fakeStore opens sessions with the password in the file, failing while
// the store does not accept that password yet.
type fakeStore struct {
	file     string
	accepted map[string]bool
	opened   []*fakeSession
}

func (s *fakeStore) open() (*fakeSession, error) {
	b, err := os.ReadFile(s.file)
	if err != nil {
		return nil, err
	}
	pw := string(b)
	if !s.accepted[pw] {
		return nil, errors.New("Provided username and/or password are incorrect")
	}
	fs := &fakeSession{password: pw}
	s.opened = append(s.opened, fs)
	return fs, nil
}

func write(t *testing.T, path, content string) {
	t.Helper()
	// Like the CSI driver: write aside, then rename over the old file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func newTestRotator(t *testing.T, store *fakeStore, drain time.Duration) *rotator[*fakeSession] {
	t.Helper()
	r := &rotator[*fakeSession]{
		file: store.file, open: store.open, close: func(s *fakeSession) { s.Close() },
		interval: time.Hour, drain: drain, openTimeout: time.Minute, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		pending: map[*time.Timer]*fakeSession{},
		rotated: prometheus.NewCounter(prometheus.CounterOpts{Name: "rotations"}),
		failed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "failures"}),
	}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRotatorSwapsOnNewPassword(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cassandra-password")
	write(t, file, "primary-key")
	store := &fakeStore{file: file, accepted: map[string]bool{"primary-key": true}}
	r := newTestRotator(t, store, 50*time.Millisecond)
	first := r.current()
	if first.password != "primary-key" {
		t.Fatalf("first session opened with %q", first.password)
	}
	if rotated, err := r.check(); rotated || err != nil {
		t.Fatalf("unchanged file: rotated=%v err=%v", rotated, err)
	}
	// A trailing newline is not a new password (the Authenticator trims it).
	write(t, file, "primary-key\n")
	if rotated, _ := r.check(); rotated {
		t.Fatal("a trailing newline rotated the session")
	}

	// The file changes before the store accepts the new key: keep the
	// current session, count the failure, retry later.
	write(t, file, "secondary-key")
	if rotated, err := r.check(); rotated || err == nil {
		t.Fatalf("rejected key: rotated=%v err=%v", rotated, err)
	}
	if r.current() != first || testutil.ToFloat64(r.failed) != 1 {
		t.Fatal("a failed attempt replaced the session or was not counted")
	}
	store.accepted["secondary-key"] = true
	rotated, err := r.check()
	if !rotated || err != nil {
		t.Fatalf("accepted key: rotated=%v err=%v", rotated, err)
	}
	second := r.current()
	if second.password != "secondary-key" || r.count.Load() != 1 || testutil.ToFloat64(r.rotated) != 1 {
		t.Fatalf("after rotation: session %q, count %d", second.password, r.count.Load())
	}
	// The old session serves in-flight statements, then closes.
	if first.isClosed() {
		t.Fatal("the old session closed before the drain period")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !first.isClosed() {
		if time.Now().After(deadline) {
			t.Fatal("the old session was never closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if second.isClosed() {
		t.Fatal("the new session was closed")
	}
	// A missing file (mid-swap) keeps everything as it is.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if rotated, err := r.check(); rotated || err == nil {
		t.Fatalf("missing file: rotated=%v err=%v", rotated, err)
	}
	r.shutdown()
	if !second.isClosed() {
		t.Fatal("shutdown left the current session open")
	}
}

func TestRotatorShutdownClosesDrainingSessions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cassandra-password")
	write(t, file, "k1")
	store := &fakeStore{file: file, accepted: map[string]bool{"k1": true, "k2": true, "k3": true}}
	r := newTestRotator(t, store, time.Hour)
	write(t, file, "k2")
	if ok, err := r.check(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	write(t, file, "k3")
	if ok, err := r.check(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if len(store.opened) != 3 || store.opened[0].isClosed() || store.opened[1].isClosed() {
		t.Fatalf("sessions %d; the replaced ones must still drain", len(store.opened))
	}
	r.shutdown()
	for i, s := range store.opened {
		if !s.isClosed() {
			t.Errorf("session %d (%s) still open after shutdown", i, s.password)
		}
	}
	write(t, file, "k1")
	if ok, _ := r.check(); ok {
		t.Error("a shut-down rotator rotated")
	}
}

func TestRotatorGivesUpOnAHangingOpen(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cassandra-password")
	write(t, file, "k1")
	store := &fakeStore{file: file, accepted: map[string]bool{"k1": true, "k2": true}}
	r := newTestRotator(t, store, time.Hour)
	release := make(chan struct{})
	late := &fakeSession{password: "k2"}
	r.open = func() (*fakeSession, error) { <-release; return late, nil }
	r.openTimeout = 50 * time.Millisecond
	write(t, file, "k2")
	if ok, err := r.check(); ok || err == nil || r.current().password != "k1" {
		t.Fatalf("a hanging open: rotated=%v err=%v current=%s", ok, err, r.current().password)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for !late.isClosed() {
		if time.Now().After(deadline) {
			t.Fatal("the session that opened too late was left open")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.open = store.open
	if ok, err := r.check(); !ok || err != nil || r.current().password != "k2" {
		t.Fatalf("the next poll: rotated=%v err=%v", ok, err)
	}
	r.shutdown()
}

func TestFromEnvRotationSettings(t *testing.T) {
	r := envReader(map[string]string{"CASSANDRA_HOSTS": "127.0.0.1", "CASSANDRA_PASSWORD_POLL": "1s", "CASSANDRA_ROTATION_DRAIN": "2s"})
	c := FromEnv(r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if c.PasswordPoll != time.Second || c.RotationDrain != 2*time.Second {
		t.Errorf("poll %s drain %s", c.PasswordPoll, c.RotationDrain)
	}
	d := FromEnv(envReader(map[string]string{"CASSANDRA_HOSTS": "127.0.0.1"}))
	if d.PasswordPoll != DefaultPasswordPoll || d.RotationDrain != DefaultRotationDrain {
		t.Errorf("defaults: poll %s drain %s", d.PasswordPoll, d.RotationDrain)
	}
}

func envReader(m map[string]string) *envconfig.Reader {
	return envconfig.NewFrom(envconfig.FromMap(m))
}
