package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter is a token bucket per API key: rate requests a second on
// average, burst at once. The buckets are made once, for the configured
// keys (a request is limited after it authenticated), so the map is only
// read and each request locks its own key's bucket, nothing shared. The
// limit is per replica: N replicas let a key through at up to N × rate.
type rateLimiter struct {
	rate, burst float64
	now         func() time.Time
	buckets     map[[32]byte]*bucket
}

type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, keys [][32]byte) *rateLimiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(math.Ceil(rate))
	}
	l := &rateLimiter{rate: rate, burst: float64(burst), now: time.Now, buckets: make(map[[32]byte]*bucket, len(keys))}
	for _, k := range keys {
		l.buckets[k] = &bucket{tokens: l.burst}
	}
	return l
}

// allow takes a token from key's bucket; when there is none it returns how
// long until there is. A key without a bucket (none is configured) passes.
func (l *rateLimiter) allow(key [32]byte) (bool, time.Duration) {
	b := l.buckets[key]
	if b == nil {
		return true, 0
	}
	now := l.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// limited answers 429 with Retry-After when the request's key is over its
// rate; it reports whether it did.
func (s *Server) limited(w http.ResponseWriter, key [32]byte) bool {
	if s.limiter == nil {
		return false
	}
	ok, wait := s.limiter.allow(key)
	if ok {
		return false
	}
	s.metrics.RateLimited.Inc()
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeError(w, http.StatusTooManyRequests, "rate_limited", "this API key is over its request rate; retry after the time in Retry-After")
	return true
}

// DerivePageKey is the page-token key of replicas that share secret (the
// Cosmos DB key they mount): HMAC-SHA256 under a fixed label, so the token
// key says nothing about the secret. When the secret is rotated, tokens of
// the old key are refused (400 invalid_page) and clients start over.
func DerivePageKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("sluice api page tokens v1"))
	return m.Sum(nil)
}

// MaxLiveEvents bounds sites × per_site of one /v1/live request, and
// liveReads the Cassandra reads one request has in flight.
const (
	MaxLiveEvents = 1000
	liveReads     = 8
)
