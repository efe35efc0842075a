package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// httpConn is a minimal HTTP/1.1 keep-alive client on one connection: it
// sends prepared GET requests and reads the status, two headers and the
// body length. It costs far less CPU per request than net/http's client,
// so on a small machine the server under test, not the load generator,
// sets the pace.
type httpConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialHTTP(addr string) (*httpConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &httpConn{c: c, r: bufio.NewReaderSize(c, 16<<10)}, nil
}

// reply is what the load generator keeps of a response.
type reply struct {
	status int
	hit    bool // X-Cache: hit or local
	local  bool // X-Cache: local
}

var (
	headerContentLength = []byte("content-length:")
	headerXCacheHit     = []byte("x-cache: hit")
	headerXCacheLocal   = []byte("x-cache: local")
)

// do sends req and reads the whole response.
func (h *httpConn) do(req []byte, deadline time.Time) (reply, error) {
	if err := h.c.SetDeadline(deadline); err != nil {
		return reply{}, err
	}
	if _, err := h.c.Write(req); err != nil {
		return reply{}, fmt.Errorf("write request: %w", err)
	}
	line, err := h.r.ReadSlice('\n')
	if err != nil {
		return reply{}, fmt.Errorf("read status: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return reply{}, fmt.Errorf("bad status line %q", line)
	}
	var rep reply
	rep.status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return reply{}, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		line, err = h.r.ReadSlice('\n')
		if err != nil {
			return reply{}, fmt.Errorf("read header: %w", err)
		}
		if len(line) <= 2 {
			break
		}
		lower := bytes.ToLower(line)
		switch {
		case bytes.HasPrefix(lower, headerContentLength):
			length, err = strconv.Atoi(string(bytes.TrimSpace(line[len(headerContentLength):])))
			if err != nil {
				return reply{}, fmt.Errorf("bad content length %q", line)
			}
		case bytes.HasPrefix(lower, headerXCacheHit):
			rep.hit = true
		case bytes.HasPrefix(lower, headerXCacheLocal):
			rep.hit, rep.local = true, true
		}
	}
	if length < 0 {
		return reply{}, errors.New("response without Content-Length")
	}
	if _, err := h.r.Discard(length); err != nil {
		return reply{}, fmt.Errorf("read body: %w", err)
	}
	return rep, nil
}

func (h *httpConn) close() { _ = h.c.Close() }

// loadResult sums one load phase.
type loadResult struct {
	requests  int64
	errors    int64
	non200    int64
	hits      int64 // of them X-Cache: hit or local
	local     int64 // of them X-Cache: local
	seconds   float64
	latencies []time.Duration // open loop only, from the intended send time
}

func (r loadResult) rps() float64 { return float64(r.requests) / r.seconds }

// requestFor returns the request bytes for the i-th request.
type requestFor func(i int64) []byte

// closedLoop runs conns connections back to back for d and counts what
// completed: the maximum rate.
func closedLoop(ctx context.Context, addr string, conns int, d time.Duration, req requestFor) (loadResult, error) {
	cs, err := dialAll(addr, conns)
	if err != nil {
		return loadResult{}, err
	}
	defer closeAll(cs)
	var res loadResult
	var reqs, errs, non200, hits, local, next atomic.Int64
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(end) {
				rep, err := c.do(req(next.Add(1)), time.Now().Add(10*time.Second))
				if err != nil {
					errs.Add(1)
					return
				}
				reqs.Add(1)
				if rep.status != 200 {
					non200.Add(1)
				}
				if rep.hit {
					hits.Add(1)
				}
				if rep.local {
					local.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.seconds = time.Since(start).Seconds()
	res.requests, res.errors, res.non200, res.hits, res.local = reqs.Load(), errs.Load(), non200.Load(), hits.Load(), local.Load()
	return res, nil
}

// openLoop sends rate requests per second for d, spread over conns
// connections, and measures each latency from the time the request was
// due, so a stalled server is charged for the requests it held up.
func openLoop(ctx context.Context, addr string, conns int, rate float64, d time.Duration, req requestFor) (loadResult, error) {
	cs, err := dialAll(addr, conns)
	if err != nil {
		return loadResult{}, err
	}
	defer closeAll(cs)
	interval := time.Duration(float64(time.Second) * float64(conns) / rate)
	start := time.Now().Add(50 * time.Millisecond)
	end := start.Add(d)
	var mu sync.Mutex
	var res loadResult
	var reqs, errs, non200, hits, local, next atomic.Int64
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, int(d/interval)+1)
			due := start.Add(time.Duration(i) * interval / time.Duration(conns))
			for ctx.Err() == nil && due.Before(end) {
				if w := time.Until(due); w > 0 {
					time.Sleep(w)
				}
				rep, err := c.do(req(next.Add(1)), time.Now().Add(10*time.Second))
				if err != nil {
					errs.Add(1)
					break
				}
				lat = append(lat, time.Since(due))
				reqs.Add(1)
				if rep.status != 200 {
					non200.Add(1)
				}
				if rep.hit {
					hits.Add(1)
				}
				if rep.local {
					local.Add(1)
				}
				due = due.Add(interval)
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.seconds = time.Since(start).Seconds()
	res.requests, res.errors, res.non200, res.hits, res.local = reqs.Load(), errs.Load(), non200.Load(), hits.Load(), local.Load()
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	return res, nil
}

// eachOnce sends every request once, spread over conns connections.
func eachOnce(ctx context.Context, addr string, conns int, reqs [][]byte) (loadResult, error) {
	cs, err := dialAll(addr, conns)
	if err != nil {
		return loadResult{}, err
	}
	defer closeAll(cs)
	var res loadResult
	var n, errs, non200, next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(reqs)) {
					return
				}
				rep, err := c.do(reqs[i], time.Now().Add(10*time.Second))
				if err != nil {
					errs.Add(1)
					return
				}
				n.Add(1)
				if rep.status != 200 {
					non200.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.seconds = time.Since(start).Seconds()
	res.requests, res.errors, res.non200 = n.Load(), errs.Load(), non200.Load()
	if res.requests+res.errors < int64(len(reqs)) && res.errors == 0 {
		return res, ctx.Err()
	}
	return res, nil
}

func dialAll(addr string, n int) ([]*httpConn, error) {
	cs := make([]*httpConn, 0, n)
	for i := 0; i < n; i++ {
		c, err := dialHTTP(addr)
		if err != nil {
			closeAll(cs)
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func closeAll(cs []*httpConn) {
	for _, c := range cs {
		c.close()
	}
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }
