package main

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// histogram is a Prometheus histogram as scraped: cumulative bucket
// counts by upper bound, the sum and the count.
type histogram struct {
	les, counts []float64
	sum, count  float64
}

// since is h minus an earlier snapshot of the same histogram (an empty
// snapshot leaves h as it is).
func (h histogram) since(earlier histogram) histogram {
	out := histogram{les: h.les, counts: append([]float64(nil), h.counts...), sum: h.sum - earlier.sum, count: h.count - earlier.count}
	if len(earlier.counts) == len(h.counts) {
		for i := range out.counts {
			out.counts[i] -= earlier.counts[i]
		}
	}
	return out
}

// quantile estimates the q-quantile, interpolating linearly inside the
// bucket, as PromQL's histogram_quantile does.
func (h histogram) quantile(q float64) float64 {
	if len(h.counts) == 0 || h.counts[len(h.counts)-1] == 0 {
		return 0
	}
	rank := q * h.counts[len(h.counts)-1]
	lower, below := 0.0, 0.0
	for i, n := range h.counts {
		le := h.les[i]
		if n >= rank {
			if math.IsInf(le, 1) {
				return lower
			}
			if n == below {
				return le
			}
			return lower + (le-lower)*(rank-below)/(n-below)
		}
		lower, below = le, n
	}
	return lower
}

// scrapeHistogram reads one histogram from a Prometheus text endpoint.
func scrapeHistogram(url, name string) (histogram, error) {
	resp, err := http.Get(url)
	if err != nil {
		return histogram{}, err
	}
	defer resp.Body.Close()
	var h histogram
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	prefix := name + `_bucket{le="`
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, name+"_sum "):
			h.sum, _ = strconv.ParseFloat(strings.TrimSpace(line[len(name)+5:]), 64)
		case strings.HasPrefix(line, name+"_count "):
			h.count, _ = strconv.ParseFloat(strings.TrimSpace(line[len(name)+7:]), 64)
		case strings.HasPrefix(line, prefix):
			rest := line[len(prefix):]
			end := strings.Index(rest, `"}`)
			if end < 0 {
				continue
			}
			le, err := strconv.ParseFloat(rest[:end], 64)
			if err != nil {
				le = math.Inf(1)
			}
			n, err := strconv.ParseFloat(strings.TrimSpace(rest[end+2:]), 64)
			if err != nil {
				continue
			}
			h.les, h.counts = append(h.les, le), append(h.counts, n)
		}
	}
	if err := sc.Err(); err != nil {
		return histogram{}, err
	}
	if len(h.counts) == 0 {
		return histogram{}, fmt.Errorf("no histogram %s at %s", name, url)
	}
	return h, nil
}
