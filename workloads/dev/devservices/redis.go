package devservices

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

type redisService struct {
	m *Manager
}

func (r *redisService) engine() Engine { return Redis }

// redisArgs is the whole configuration, on the command line: loopback only,
// append-only persistence in data/redis, no RDB snapshots, protected mode.
func redisArgs(dir string) []string {
	return []string{
		"--bind", Host,
		"--port", strconv.Itoa(RedisPort),
		"--dir", dir,
		"--appendonly", "yes",
		"--appendfsync", "everysec",
		"--save", "",
		"--protected-mode", "yes",
		"--daemonize", "no",
		"--logfile", "",
		"--databases", "16",
	}
}

func (r *redisService) prepare(context.Context, tools) error {
	dir := r.m.layout.DataDir(Redis)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

func (r *redisService) command(t tools) (*exec.Cmd, error) {
	cmd := exec.Command(t.redisServer, redisArgs(r.m.layout.DataDir(Redis))...)
	cmd.Dir = r.m.layout.DataDir(Redis)
	return cmd, nil
}

func (r *redisService) waitLabel() string { return "PING" }

func (r *redisService) probe(ctx context.Context) error {
	c := redis.NewClient(&redis.Options{
		Addr:         hostPort(RedisPort),
		DialTimeout:  2 * time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
		MaxRetries:   -1,
		// Redis before 7.2 has no CLIENT SETINFO.
		DisableIdentity: true,
	})
	defer c.Close()
	pong, err := c.Ping(ctx).Result()
	if err != nil {
		return fmt.Errorf("ping %s: %w", hostPort(RedisPort), err)
	}
	if pong != "PONG" {
		return fmt.Errorf("ping %s: unexpected reply %q", hostPort(RedisPort), pong)
	}
	return nil
}

func (r *redisService) bootstrap(context.Context) error { return nil }

func (r *redisService) check(ctx context.Context) error { return r.probe(ctx) }

func (r *redisService) stopSignal() syscall.Signal { return syscall.SIGTERM }

func (r *redisService) startTimeout() time.Duration { return 30 * time.Second }

func (r *redisService) stopTimeout() time.Duration { return 30 * time.Second }

func (r *redisService) describe() string { return "Redis (Debian package) on " + hostPort(RedisPort) }

// FlushTestRedis empties the tests' Redis database (TestRedisDB) and
// returns how many keys it held; the demo's database is never touched.
func (m *Manager) FlushTestRedis(ctx context.Context) (int64, error) {
	c := redis.NewClient(&redis.Options{Addr: hostPort(RedisPort), DB: TestRedisDB, MaxRetries: -1, DisableIdentity: true})
	defer c.Close()
	n, err := c.DBSize(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("size of redis database %d: %w", TestRedisDB, err)
	}
	if err := c.FlushDB(ctx).Err(); err != nil {
		return 0, fmt.Errorf("flush redis database %d: %w", TestRedisDB, err)
	}
	return n, nil
}
