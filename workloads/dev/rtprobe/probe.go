package rtprobe

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Probe tracks critical events until a poll of their site sees them.
type Probe struct {
	base  string
	limit int
	every time.Duration

	mu       sync.Mutex
	pending  map[string]map[string]time.Time // site → id → produced at
	seen     []time.Duration
	pollErrs int

	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// New polls apiBase (http://host:port) every period, reading up to limit
// critical events per site.
func New(apiBase string, limit int, every time.Duration) *Probe {
	return &Probe{base: apiBase, limit: limit, every: every, pending: map[string]map[string]time.Time{}}
}

// Start polls each site until Stop.
func (p *Probe) Start(ctx context.Context, sites []string) {
	ctx, p.cancel = context.WithCancel(ctx)
	for _, s := range sites {
		p.mu.Lock()
		if p.pending[s] == nil {
			p.pending[s] = map[string]time.Time{}
		}
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.poll(ctx, s)
		}()
	}
}

// Stop ends the polling and waits for the pollers.
func (p *Probe) Stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// Expect registers a critical event produced at at. Its site must be one
// of those Start polls.
func (p *Probe) Expect(site, id string, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending[site] == nil {
		p.pending[site] = map[string]time.Time{}
	}
	p.pending[site][id] = at
}

// Seen is the number of events seen so far.
func (p *Probe) Seen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

// Waiting is the number of events not seen yet.
func (p *Probe) Waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, ids := range p.pending {
		n += len(ids)
	}
	return n
}

// WaitAll waits until every expected event was seen or timeout passes.
func (p *Probe) WaitAll(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for p.Waiting() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *Probe) poll(ctx context.Context, site string) {
	client := &http.Client{Timeout: 5 * time.Second}
	url := p.base + "/v1/sites/" + site + "/critical?limit=" + strconv.Itoa(p.limit)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		body, err := get(ctx, client, url)
		now := time.Now()
		p.mu.Lock()
		if err != nil {
			if ctx.Err() == nil {
				p.pollErrs++
			}
			p.mu.Unlock()
			continue
		}
		// Ids are searched as bytes: decoding every answer would cost
		// the poller more than the API spends on it.
		for id, at := range p.pending[site] {
			if bytes.Contains(body, []byte(id)) {
				p.seen = append(p.seen, now.Sub(at))
				delete(p.pending[site], id)
			}
		}
		p.mu.Unlock()
	}
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{code: resp.StatusCode}
	}
	return body, nil
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.code) }

// Result is what a probe measured.
type Result struct {
	// Latencies are sorted, shortest first.
	Latencies []time.Duration
	Missing   int
	PollErrs  int
}

// Percentile returns the p-quantile (0..1) of the latencies.
func (r Result) Percentile(p float64) time.Duration { return Percentile(r.Latencies, p) }

// Percentile returns the p-quantile (0..1) of durations sorted in
// increasing order (nearest rank below), zero for none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))]
}

// Result returns the measurements so far.
func (p *Probe) Result() Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	lat := append([]time.Duration(nil), p.seen...)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	missing := 0
	for _, ids := range p.pending {
		missing += len(ids)
	}
	return Result{Latencies: lat, Missing: missing, PollErrs: p.pollErrs}
}

// Take returns the measurements so far and starts afresh, polling on: an
// event still pending counts as missing in what Take returns and is
// forgotten, so the next window measures only events expected after it.
func (p *Probe) Take() Result {
	r := p.Result()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen, p.pollErrs = nil, 0
	for site := range p.pending {
		p.pending[site] = map[string]time.Time{}
	}
	return r
}
