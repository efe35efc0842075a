package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/workloads/dev/devservices"
)

// pgbouncerBinary is where Debian's pgbouncer package installs it.
const pgbouncerBinary = "/usr/sbin/pgbouncer"

// Login is a role and password PgBouncer accepts besides the local admin.
type Login struct{ User, Password string }

// Bouncer starts a PgBouncer in transaction pooling mode in front of the
// local PostgreSQL, the way Azure's built-in PgBouncer (port 6432) pools,
// with poolSize server connections per database and user, and returns the
// URL of d's database through it (as d's user; BouncerURLFor gives the
// others). PgBouncer accepts the admin and logins. It stops at cleanup. The
// test fails when pgbouncer is not installed.
func (d *Database) Bouncer(t testing.TB, poolSize int, logins ...Login) string {
	t.Helper()
	return d.StartBouncer(t, poolSize, logins...).URL
}

// PgBouncer is a PgBouncer Bouncer started, for tests that restart it.
type PgBouncer struct {
	// URL is d's database through it, as Bouncer returns it.
	URL  string
	t    testing.TB
	bin  string
	args []string
	dir  string

	cmd     *exec.Cmd
	out     *os.File
	exited  chan struct{}
	waitErr error
}

// StartBouncer is Bouncer, returning the running PgBouncer.
func (d *Database) StartBouncer(t testing.TB, poolSize int, logins ...Login) *PgBouncer {
	t.Helper()
	bin := pgbouncerBinary
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("pgbouncer")
		if lerr != nil {
			t.Fatalf("pgbouncer is not installed (Debian: apt-get install -y --no-install-recommends pgbouncer; its service need not run): %v", err)
		}
		bin = p
	}
	// Not under t.TempDir: its parent is private to this user, and the
	// server may run as another one.
	var ln net.Listener
	dir, err := os.MkdirTemp("", "pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := fmt.Sprintf(`[databases]
* = host=%s port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 200
server_lifetime = 3600
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, devservices.Host, devservices.PostgresPort, port, filepath.Join(dir, "users.txt"), poolSize,
		filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	users := fmt.Sprintf("%q %q\n", devservices.PostgresUser, devservices.PostgresPassword)
	for _, l := range logins {
		users += fmt.Sprintf("%q %q\n", l.User, l.Password)
	}
	for name, content := range map[string]string{"pgbouncer.ini": conf, "users.txt": users} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root; it switches to -u itself.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, pgbouncer needs an unprivileged user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, filepath.Join(dir, "pgbouncer.ini"), filepath.Join(dir, "users.txt")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"-u", "postgres"}, args...)
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	b := &PgBouncer{URL: u.String(), t: t, bin: bin, args: args, dir: dir}
	b.start()
	t.Cleanup(b.stop)
	return b
}

// start runs pgbouncer and waits until it answers.
func (b *PgBouncer) start() {
	t := b.t
	t.Helper()
	b.cmd = exec.Command(b.bin, b.args...)
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	out, err := os.OpenFile(filepath.Join(b.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	b.out = out
	b.cmd.Stdout, b.cmd.Stderr = out, out
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan struct{})
	b.exited = exited
	cmd := b.cmd
	go func() {
		b.waitErr = cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, b.URL+"&default_query_exec_mode=exec")
		if err == nil {
			_, err = c.Exec(ctx, "SELECT 1")
			c.Close(ctx)
		}
		cancel()
		if err == nil {
			return
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(b.dir, "pgbouncer.log"))
			so, _ := os.ReadFile(filepath.Join(b.dir, "stdout.log"))
			t.Fatalf("pgbouncer exited (%v):\n%s\n%s", b.waitErr, log, so)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(b.dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer did not answer within 15s: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends pgbouncer: SIGINT (a clean shutdown), then SIGKILL.
func (b *PgBouncer) stop() {
	_ = b.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	b.out.Close()
}

// Restart kills pgbouncer as a crash would (SIGKILL: every client and
// server connection drops mid-transaction) and starts it again on the same
// port, returning once it answers.
func (b *PgBouncer) Restart() {
	b.t.Helper()
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.exited
	b.out.Close()
	_ = os.Remove(filepath.Join(b.dir, "pgbouncer.pid"))
	b.start()
}

// BouncerURLFor returns a URL Bouncer returned with another user and
// password.
func BouncerURLFor(bouncerURL, user, password string) string {
	u, err := url.Parse(bouncerURL)
	if err != nil {
		panic(fmt.Sprintf("pgtest: bouncer url %q does not parse: %v", bouncerURL, err))
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}
