package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/doccache"
	"github.com/sluicehq/sluice/workloads/internal/opsserver"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// Cache is the Redis side of cache-aside; rediscache.Cache implements it.
// A key Redis does not hold is rediscache.ErrMiss. Event must bound its own
// wait (rediscache does, with the API's cache timeout): the hot path adds
// no deadline of its own.
type Cache interface {
	Event(ctx context.Context, id string) (string, error)
	Events(ctx context.Context, ids []string) ([][]byte, error)
	SetEvent(ctx context.Context, id string, doc []byte, ttl time.Duration) error
	SiteCritical(ctx context.Context, site string, limit int) ([]string, bool, error)
	SitesCritical(ctx context.Context, sites []string, limit int) ([][]string, error)
	FillSite(ctx context.Context, site string, events []contract.Stored, ttl time.Duration) error
	DeviceLatest(ctx context.Context, device string) ([]byte, error)
	SetDeviceLatest(ctx context.Context, st contract.Stored, ttl time.Duration) error
	LiveSites(ctx context.Context, n int) ([]string, error)
}

// Store is the Cassandra side; CassandraStore implements it. A missing
// event or device is eventstore.ErrNotFound.
type Store interface {
	Event(ctx context.Context, id string) (contract.Stored, error)
	SiteCritical(ctx context.Context, site string, limit int) ([]contract.Stored, error)
	DeviceLatest(ctx context.Context, device string) (contract.Stored, error)
	DeviceEvents(ctx context.Context, q DeviceQuery) (DevicePage, error)
	Ready(ctx context.Context) error
}

// Options tune the server.
type Options struct {
	// Local turns authentication off (API_MODE=local).
	Local bool
	// KeyHashes are the SHA-256 hashes of the accepted API keys.
	KeyHashes [][32]byte
	// CacheTimeout bounds every Redis call; CacheCooldown is how long
	// Redis is skipped after repeated failures.
	CacheTimeout  time.Duration
	CacheCooldown time.Duration
	// RequestTimeout bounds a request's Cassandra reads.
	RequestTimeout time.Duration
	// MaxBodyBytes is the largest request body accepted.
	MaxBodyBytes int64
	// LookbackDays is how many UTC days a "latest" read searches back.
	LookbackDays int
	// MaxRange is the widest from–to range of a device's events.
	MaxRange time.Duration
	// LivePoll is the live page's polling period.
	LivePoll time.Duration
	// EventTTL, DeviceTTL and SiteFilledTTL are the lifetimes of filled
	// keys, before Jitter (a share, 0.1 = up to 10 % more).
	EventTTL, DeviceTTL, SiteFilledTTL time.Duration
	Jitter                             float64
	// SiteMax is the largest ?limit= of a site's critical events, the
	// length of the cached sorted set.
	SiteMax int
	// Aggregates reads the stream job's minutes and silent devices; nil
	// turns those routes off.
	Aggregates Aggregates
	// Reports reads the report views for the report page; nil turns the
	// reports off (the api runs without PostgreSQL).
	Reports Reports
	// RateLimit is the requests a second each API key may make on average
	// (per replica), RateBurst how many at once; 0 turns the limit off.
	// Local mode, which has no keys, has no limit.
	RateLimit float64
	RateBurst int
	// EventCacheEntries and EventCacheBytes bound the in-process cache of
	// event documents in front of Redis (GET /v1/events/{id} only: an
	// event's document never changes once written); either at 0 turns it
	// off.
	EventCacheEntries int
	EventCacheBytes   int64
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.CacheTimeout <= 0 {
		o.CacheTimeout = 250 * time.Millisecond
	}
	if o.CacheCooldown <= 0 {
		o.CacheCooldown = time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 5 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.LookbackDays <= 0 {
		o.LookbackDays = 7
	}
	if o.MaxRange <= 0 {
		o.MaxRange = 31 * 24 * time.Hour
	}
	if o.LivePoll <= 0 {
		o.LivePoll = time.Second
	}
	if o.EventTTL <= 0 {
		o.EventTTL = rediscache.DefaultEventTTL
	}
	if o.DeviceTTL <= 0 {
		o.DeviceTTL = rediscache.DefaultDeviceTTL
	}
	if o.SiteFilledTTL <= 0 {
		o.SiteFilledTTL = 10 * time.Minute
	}
	if o.SiteMax <= 0 {
		o.SiteMax = rediscache.DefaultSiteMax
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

//go:embed web
var webFiles embed.FS

// Server is the API's HTTP handler.
type Server struct {
	store      Store
	cache      Cache
	opts       Options
	metrics    *Metrics
	eventHits  prometheus.Counter
	events     *doccache.Cache // nil when off
	breaker    breaker
	limiter    *rateLimiter
	flights    singleflight.Group
	handler    http.Handler
	page       []byte
	reportPage []byte
	static     http.Handler
	closing    atomic.Bool

	sitesMu    sync.Mutex
	knownSites []string // the last live:sites seen, for the page when Redis is down
}

// New builds the server; cache may be nil (every request then bypasses
// Redis). Metrics are registered on reg.
func New(store Store, cache Cache, opts Options, reg prometheus.Registerer) (*Server, error) {
	opts.defaults()
	s := &Server{store: store, cache: cache, opts: opts}
	if opts.EventCacheEntries > 0 && opts.EventCacheBytes > 0 {
		var err error
		if s.events, err = doccache.New(opts.EventCacheEntries, opts.EventCacheBytes); err != nil {
			return nil, err
		}
	}
	s.metrics = NewMetrics(reg, s.events)
	s.eventHits = s.metrics.CacheHits.WithLabelValues("event")
	s.breaker.cooldown = opts.CacheCooldown
	if !opts.Local {
		s.limiter = newRateLimiter(opts.RateLimit, opts.RateBurst, opts.KeyHashes)
	}
	page, err := webFiles.ReadFile("web/index.html")
	if err != nil {
		return nil, err
	}
	s.page = []byte(strings.ReplaceAll(string(page), "{{POLL_MS}}", strconv.FormatInt(opts.LivePoll.Milliseconds(), 10)))
	if s.reportPage, err = webFiles.ReadFile("web/reports.html"); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	s.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return s, nil
}

// Routes returns the handler with every route, the operations endpoints
// on gatherer included.
func (s *Server) Routes(gatherer prometheus.Gatherer) http.Handler { return s.routes(gatherer) }

// PublicRoutes returns the handler with the api's routes only, for when
// the operations endpoints have a listener of their own (OPS_ADDR):
// /healthz, /readyz and /metrics are then unknown routes here.
func (s *Server) PublicRoutes() http.Handler { return s.routes(nil) }

func (s *Server) routes(ops prometheus.Gatherer) http.Handler {
	event := s.route("event", true, func(w http.ResponseWriter, r *http.Request) {
		s.getEvent(w, r, strings.TrimPrefix(r.URL.Path, eventsPrefix))
	})
	return s.limits(eventFastPath(event, s.mux(ops)))
}

const eventsPrefix = "/v1/events/"

// eventFastPath sends the api's busiest request, GET /v1/events/{id},
// straight to its route, past the mux's path cleaning and matching: a path
// of one clean segment after the prefix, which the mux would send to the
// same route with that segment as the id. Everything else goes through
// the mux, a path that came with escapes (RawPath set) too, to be safe.
func eventFastPath(event, mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawPath == "" {
			if id, ok := strings.CutPrefix(r.URL.Path, eventsPrefix); ok && id != "" && id != "." && id != ".." && strings.IndexByte(id, '/') < 0 {
				event.ServeHTTP(w, r)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// mux routes every request; routes puts the event fast path in front of
// it.
func (s *Server) mux(ops prometheus.Gatherer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/v1/events/{id}", s.route("event", true, func(w http.ResponseWriter, r *http.Request) { s.getEvent(w, r, r.PathValue("id")) }))
	mux.Handle("/v1/sites/{site}/critical", s.route("site_critical", true, s.getSiteCritical))
	mux.Handle("/v1/sites/{site}/minutes", s.route("site_minutes", true, s.getSiteMinutes))
	mux.Handle("/v1/sites/{site}/silent", s.route("silent_devices", true, s.getSilentDevices))
	mux.Handle("/v1/devices/{device}/latest", s.route("device_latest", true, s.getDeviceLatest))
	mux.Handle("/v1/devices/{device}/events", s.route("device_events", true, s.getDeviceEvents))
	mux.Handle("/v1/live", s.route("live", true, s.getLive))
	mux.Handle("/v1/reports", s.route("reports", true, s.getReports))
	mux.Handle("/{$}", s.route("page", false, s.getPage))
	mux.Handle("/reports", s.route("report_page", false, s.getReportPage))
	mux.Handle("/static/", s.route("static", false, func(w http.ResponseWriter, r *http.Request) { s.static.ServeHTTP(w, r) }))
	if ops != nil {
		opsserver.Register(mux, ops, s.Ready)
	}
	mux.Handle("/", s.route("unknown", false, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route: "+r.URL.Path)
	}))
	return mux
}

// Ready is the readiness check: Cassandra must answer; Redis need not.
func (s *Server) Ready(ctx context.Context) error {
	if s.closing.Load() {
		return errors.New("shutting down")
	}
	return s.store.Ready(ctx)
}

// Close makes readiness fail, ahead of a graceful shutdown.
func (s *Server) Close() { s.closing.Store(true) }

// limits refuses bodies over MaxBodyBytes and recovers panics as 500s.
func (s *Server) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.opts.MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body over "+strconv.FormatInt(s.opts.MaxBodyBytes, 10)+" bytes")
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.opts.Logger.Error("handler panicked", "path", r.URL.Path, "panic", v)
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// route wraps a GET handler with method checks, authentication (when
// auth) and metrics.
func (s *Server) route(name string, auth bool, h http.HandlerFunc) http.Handler {
	reqs := s.metrics.Requests.MustCurryWith(prometheus.Labels{"route": name})
	ok := reqs.WithLabelValues("200")
	dur := s.metrics.Seconds.WithLabelValues(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := statusWriters.Get().(*statusWriter)
		*sw = statusWriter{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			sw.ResponseWriter = nil
			statusWriters.Put(sw)
		}()
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			sw.Header().Set("Allow", "GET, HEAD")
			writeError(sw, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here")
		default:
			if auth {
				key, ok := s.authorized(r)
				if !ok {
					sw.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
					writeError(sw, http.StatusUnauthorized, "unauthorized", "a valid API key is required in X-API-Key or Authorization: Bearer")
					break
				}
				if !s.opts.Local && s.limited(sw, key) {
					break
				}
			}
			h(sw, r)
		}
		dur.Observe(time.Since(start).Seconds())
		if sw.code == http.StatusOK {
			ok.Inc()
		} else {
			reqs.WithLabelValues(strconv.Itoa(sw.code)).Inc()
		}
	})
}

// authorized checks the request's API key against every configured hash
// in constant time and returns the key's hash.
func (s *Server) authorized(r *http.Request) ([32]byte, bool) {
	if s.opts.Local {
		return [32]byte{}, true
	}
	key := r.Header.Get("X-API-Key")
	if key == "" {
		if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
			key = strings.TrimSpace(a[7:])
		}
	}
	if key == "" {
		return [32]byte{}, false
	}
	sum := sha256.Sum256([]byte(key))
	ok := 0
	for _, h := range s.opts.KeyHashes {
		ok |= subtle.ConstantTimeCompare(sum[:], h[:])
	}
	return sum, ok == 1
}

var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) WriteString(s string) (int, error) {
	w.wroteHeader = true
	return io.WriteString(w.ResponseWriter, s)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"encode response"}}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	_, _ = w.Write(b)
}

// writeDoc writes a JSON document held in a string without copying it.
// Like writeRaw's 200s, it leaves the status to the first write: an
// explicit WriteHeader makes net/http copy the header map.
func writeDoc(w http.ResponseWriter, doc string) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	_, _ = io.WriteString(w, doc)
}

var (
	jsonType = []string{"application/json"}
	noStore  = []string{"no-store"}
)

// breaker skips Redis for a cooldown after three failures in a row, so a
// dead or stalled Redis costs one timeout per cooldown, not one per request.
type breaker struct {
	cooldown  time.Duration
	failures  atomic.Int32
	openUntil atomic.Int64 // Unix ns
}

const breakerThreshold = 3

func (b *breaker) allow() bool {
	u := b.openUntil.Load()
	return u == 0 || time.Now().UnixNano() >= u
}

func (b *breaker) success() {
	if b.failures.Load() != 0 {
		b.failures.Store(0)
	}
	if b.openUntil.Load() != 0 {
		b.openUntil.Store(0)
	}
}

func (b *breaker) failure() {
	if b.failures.Add(1) >= breakerThreshold {
		b.openUntil.Store(time.Now().Add(b.cooldown).UnixNano())
	}
}
