package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
)

// Aggregates reads what the Spark stream job writes: per-site one-minute
// aggregates and silent devices. CassandraStore implements it.
type Aggregates interface {
	// SiteMinutes returns a site's minutes in [from, to) by kind and unit,
	// kind only when kind is not empty.
	SiteMinutes(ctx context.Context, site, kind string, from, to time.Time) ([]MinuteSeries, error)
	// SilentDevices returns a site's devices the job found silent.
	SilentDevices(ctx context.Context, site string) ([]SilentDevice, error)
}

// MinuteSeries is one kind and unit of a site, minute by minute, oldest
// first; minutes without events are absent.
type MinuteSeries struct {
	Kind    string        `json:"kind"`
	Unit    string        `json:"unit"`
	Minutes []MinuteValue `json:"minutes"`
}

// MinuteValue is one minute's aggregate.
type MinuteValue struct {
	Minute time.Time `json:"minute"`
	Events int64     `json:"events"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Mean   float64   `json:"mean"`
}

// SilentDevice is a device that stopped reporting: no event for the
// stream job's silence threshold since LastSeen (by event time).
type SilentDevice struct {
	Device   string    `json:"device"`
	Kind     string    `json:"kind"`
	LastSeen time.Time `json:"last_seen"`
	Since    time.Time `json:"silent_since"`
}

// MaxMinutesRange is the widest from–to range of /v1/sites/{site}/minutes.
const MaxMinutesRange = 24 * time.Hour

// GET /v1/sites/{site}/minutes?kind=&from=&to=
func (s *Server) getSiteMinutes(w http.ResponseWriter, r *http.Request) {
	site, ok := s.aggregatesSite(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind != "" && !kindPattern(kind) {
		writeError(w, http.StatusBadRequest, "bad_request", "kind must be a lowercase identifier such as co2")
		return
	}
	to := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	from := to.Add(-time.Hour)
	var err error
	if v := q.Get("to"); v != "" {
		if to, err = parseTime(v); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "to must be an RFC 3339 time")
			return
		}
		from = to.Add(-time.Hour)
	}
	if v := q.Get("from"); v != "" {
		if from, err = parseTime(v); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "from must be an RFC 3339 time")
			return
		}
	}
	if !from.Before(to) || to.Sub(from) > MaxMinutesRange {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("from must be before to, at most %s apart", MaxMinutesRange))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	series, err := s.opts.Aggregates.SiteMinutes(ctx, site, kind, from, to)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Site  string         `json:"site"`
		From  time.Time      `json:"from"`
		To    time.Time      `json:"to"`
		Kinds []MinuteSeries `json:"kinds"`
	}{site, from, to, series})
}

// GET /v1/sites/{site}/silent
func (s *Server) getSilentDevices(w http.ResponseWriter, r *http.Request) {
	site, ok := s.aggregatesSite(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	devices, err := s.opts.Aggregates.SilentDevices(ctx, site)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Site    string         `json:"site"`
		Devices []SilentDevice `json:"devices"`
	}{site, devices})
}

// aggregatesSite answers 404 when the stream aggregates are off and 400 for
// a bad site; otherwise it returns the request's site.
func (s *Server) aggregatesSite(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.opts.Aggregates == nil {
		writeError(w, http.StatusNotFound, "aggregates_off", "the api has no stream aggregates")
		return "", false
	}
	site, ok := parseName(r.PathValue("site"))
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_site", badSite)
	}
	return site, ok
}

func kindPattern(s string) bool {
	if len(s) < 1 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// SiteMinutes implements Aggregates: one read per UTC day of the range,
// restricted to kind and the minutes when kind is given.
func (c *CassandraStore) SiteMinutes(ctx context.Context, site, kind string, from, to time.Time) ([]MinuteSeries, error) {
	from, to = from.UTC(), to.UTC()
	type key struct{ kind, unit string }
	byKey := map[key]*MinuteSeries{}
	sess := c.sessions.Session()
	for day := contract.Day(from); day.Before(to); day = day.AddDate(0, 0, 1) {
		var q string
		args := []any{site, day}
		if kind != "" {
			q = `SELECT kind, minute, unit, events, min_value, max_value, mean_value FROM ` + c.keyspace + `.` + contract.TableSiteMinutes +
				` WHERE site = ? AND day = ? AND kind = ? AND minute >= ? AND minute < ?`
			args = append(args, kind, from, to)
		} else {
			q = `SELECT kind, minute, unit, events, min_value, max_value, mean_value FROM ` + c.keyspace + `.` + contract.TableSiteMinutes +
				` WHERE site = ? AND day = ?`
		}
		iter := sess.Query(q, args...).WithContext(ctx).Idempotent(true).PageSize(2000).Iter()
		var (
			k, unit string
			v       MinuteValue
		)
		for iter.Scan(&k, &v.Minute, &unit, &v.Events, &v.Min, &v.Max, &v.Mean) {
			if v.Minute.Before(from) || !v.Minute.Before(to) {
				continue
			}
			v.Minute = v.Minute.UTC()
			s := byKey[key{k, unit}]
			if s == nil {
				s = &MinuteSeries{Kind: k, Unit: unit}
				byKey[key{k, unit}] = s
			}
			s.Minutes = append(s.Minutes, v)
		}
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("read site minutes: %w", err)
		}
	}
	out := make([]MinuteSeries, 0, len(byKey))
	for _, s := range byKey {
		sort.Slice(s.Minutes, func(i, j int) bool { return s.Minutes[i].Minute.Before(s.Minutes[j].Minute) })
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Unit < out[j].Unit
	})
	return out, nil
}

// SilentDevices implements Aggregates.
func (c *CassandraStore) SilentDevices(ctx context.Context, site string) ([]SilentDevice, error) {
	iter := c.sessions.Session().Query(`SELECT device, kind, silent, last_seen, changed_at FROM `+c.keyspace+`.`+contract.TableSilentDevices+
		` WHERE site = ?`, site).WithContext(ctx).Idempotent(true).PageSize(1000).Iter()
	out := []SilentDevice{}
	var (
		d      SilentDevice
		silent bool
	)
	for iter.Scan(&d.Device, &d.Kind, &silent, &d.LastSeen, &d.Since) {
		if silent {
			d.LastSeen, d.Since = d.LastSeen.UTC(), d.Since.UTC()
			out = append(out, d)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read silent devices: %w", err)
	}
	return out, nil
}

var (
	_ Store      = (*CassandraStore)(nil)
	_ Aggregates = (*CassandraStore)(nil)
)
