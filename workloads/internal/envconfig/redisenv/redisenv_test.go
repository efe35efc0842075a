package redisenv

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

func env(m map[string]string) *envconfig.Reader { return envconfig.NewFrom(envconfig.FromMap(m)) }

func TestConfigDefaults(t *testing.T) {
	r := env(map[string]string{"REDIS_ADDR": "127.0.0.1:16379"})
	c := Config(r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if c.TLS || c.Entra || c.Cluster {
		t.Fatalf("local redis got TLS=%v Entra=%v Cluster=%v", c.TLS, c.Entra, c.Cluster)
	}
	if c.Timeout != rediscache.DefaultTimeout || c.MaxRetries != rediscache.DefaultMaxRetries {
		t.Fatalf("timeout %s, retries %d: not the defaults", c.Timeout, c.MaxRetries)
	}
	r = env(map[string]string{"REDIS_ADDR": "sluice-dev.westeurope.redis.azure.net:10000", "REDIS_CLUSTER": "true"})
	c = Config(r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if !c.TLS || !c.Entra || !c.Cluster {
		t.Fatalf("azure managed redis got TLS=%v Entra=%v Cluster=%v", c.TLS, c.Entra, c.Cluster)
	}
	r = env(map[string]string{"REDIS_ADDR": "x.redis.azure.net:10000", "REDIS_PASSWORD": "p"})
	if c = Config(r); r.Err() != nil || c.Entra || !c.TLS {
		t.Fatalf("azure with a password: Entra=%v TLS=%v, %v", c.Entra, c.TLS, r.Err())
	}
}

func TestConfigReportsProblems(t *testing.T) {
	r := env(map[string]string{"REDIS_ADDR": "x.redis.azure.net:10000", "REDIS_TLS": "false", "REDIS_ENTRA": "true"})
	Config(r)
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "REDIS_TLS") {
		t.Fatalf("entra without TLS accepted: %v", r.Err())
	}
	r = env(map[string]string{})
	Config(r)
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "REDIS_ADDR is required") {
		t.Fatalf("missing REDIS_ADDR: %v", r.Err())
	}
	r = env(map[string]string{"REDIS_ADDR": "127.0.0.1:16379", "REDIS_DB": "16", "REDIS_TIMEOUT": "1ms"})
	Config(r)
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "REDIS_DB") || !strings.Contains(r.Err().Error(), "REDIS_TIMEOUT") {
		t.Fatalf("out-of-range values: %v", r.Err())
	}
}

func TestOptions(t *testing.T) {
	r := env(map[string]string{})
	o := Options(r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if o.EventTTL != rediscache.DefaultEventTTL || o.DeviceTTL != rediscache.DefaultDeviceTTL || o.SiteTTL != rediscache.DefaultSiteTTL || o.SiteMax != rediscache.DefaultSiteMax {
		t.Fatalf("defaults %+v", o)
	}
	r = env(map[string]string{"CACHE_EVENT_TTL": "2h", "CACHE_SITE_CRITICAL_MAX": "20"})
	if o = Options(r); r.Err() != nil || o.EventTTL != 2*time.Hour || o.SiteMax != 20 {
		t.Fatalf("set values %+v, %v", o, r.Err())
	}
	r = env(map[string]string{"CACHE_SITE_CRITICAL_MAX": "0"})
	if Options(r); r.Err() == nil {
		t.Fatal("CACHE_SITE_CRITICAL_MAX=0 accepted")
	}
}
