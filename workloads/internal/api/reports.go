package api

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Reports reads the report views for the report page; PostgresReports
// implements it. A Report covers whole UTC hours in [From, To).
type Reports interface {
	Report(ctx context.Context, from, to time.Time) (Report, error)
}

// ErrNoReportSchema is returned by Reports when the database has no report
// views yet (the schema migration has not run, or the role may not read
// them).
var ErrNoReportSchema = errors.New("the report views are missing or not readable")

// Report is what the report page draws: four charts over the same hours.
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Hours are the UTC hours of the range, oldest first: the x axis of
	// every hourly chart, hours without rows included.
	Hours []time.Time `json:"hours"`
	// Sites are the sites with the most events in the range, most first,
	// at most MaxReportSites; SitesOmitted counts the others.
	Sites        []SiteSeries `json:"sites"`
	SitesOmitted int          `json:"sites_omitted"`
	// Kinds are the hourly averages per kind, over every site.
	Kinds []KindSeries `json:"kinds"`
	// Health counts devices by status (report.device_health: the last 24
	// hours, whatever the range), in HealthStatuses order.
	Health []StatusCount `json:"health"`
	// Unknown is, per hour, what the reference data did not know.
	Unknown []UnknownHour `json:"unknown"`
	// EnrichedTo is the end of the newest succeeded enrich window: the
	// report is complete up to it. Nil when enrich never succeeded.
	EnrichedTo *time.Time `json:"enriched_to"`
}

// SiteSeries is a site's events and critical events per hour.
type SiteSeries struct {
	Site   string      `json:"site"`
	Name   string      `json:"name"`
	Events int64       `json:"events"`
	Hours  []SiteCount `json:"hours"`
}

// SiteCount is one hour of a site; hours without events are absent.
type SiteCount struct {
	Hour     time.Time `json:"hour"`
	Events   int64     `json:"events"`
	Critical int64     `json:"critical"`
}

// KindSeries is a kind's hourly mean, minimum and maximum over every site.
type KindSeries struct {
	Kind  string      `json:"kind"`
	Unit  string      `json:"unit"`
	Hours []KindValue `json:"hours"`
}

// KindValue is one hour of a kind.
type KindValue struct {
	Hour   time.Time `json:"hour"`
	Events int64     `json:"events"`
	Mean   float64   `json:"mean"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
}

// StatusCount is how many devices have a health status.
type StatusCount struct {
	Status  string `json:"status"`
	Devices int64  `json:"devices"`
}

// HealthStatuses are report.device_health's statuses, worst first.
var HealthStatuses = []string{"critical", "warning", "ok", "silent", "unregistered"}

// UnknownHour counts an hour's events from sites and from devices missing
// from the reference data; hours with neither are absent.
type UnknownHour struct {
	Hour         time.Time `json:"hour"`
	SiteEvents   int64     `json:"unknown_site_events"`
	DeviceEvents int64     `json:"unknown_device_events"`
}

// Limits of the report page.
const (
	// MaxReportSites is the most sites the per-site chart draws.
	MaxReportSites = 12
	// DefaultReportHours and MaxReportHours bound ?hours=.
	DefaultReportHours = 24
	MaxReportHours     = 7 * 24
)

// reportRange is the range of a report of the last hours whole UTC
// hours ending at to (exclusive): by default the end of now's hour, so
// the current hour is included. An explicit to must be a whole UTC hour
// no later than that, so a report of a past window reads the same rows
// however long after it is asked for.
func reportRange(r *http.Request, now time.Time, hours int) (time.Time, time.Time, error) {
	end := now.UTC().Truncate(time.Hour).Add(time.Hour)
	to := end
	if v := r.URL.Query().Get("to"); v != "" {
		t, err := parseTime(v)
		if err != nil || !t.Truncate(time.Hour).Equal(t) || t.After(end) {
			return time.Time{}, time.Time{}, paramError{"to must be a whole UTC hour in RFC 3339 (like " + end.Format(time.RFC3339) + "), no later than the end of the current hour"}
		}
		to = t
	}
	return to.Add(-time.Duration(hours) * time.Hour), to, nil
}

// GET /v1/reports?hours=&to=
func (s *Server) getReports(w http.ResponseWriter, r *http.Request) {
	if s.opts.Reports == nil {
		writeError(w, http.StatusNotFound, "reports_off", "reports are off: the api has no PostgreSQL connection (set POSTGRES_URL or POSTGRES_HOST)")
		return
	}
	hours, err := parseInt(r, "hours", DefaultReportHours, 1, MaxReportHours)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	from, to, err := reportRange(r, time.Now(), hours)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	rep, err := s.opts.Reports.Report(ctx, from, to)
	switch {
	case errors.Is(err, ErrNoReportSchema):
		s.opts.Logger.Warn("report views unavailable", "err", err)
		writeError(w, http.StatusServiceUnavailable, "reports_unavailable", "the report views are not there yet (has the PostgreSQL migration run?)")
		return
	case err != nil:
		if r.Context().Err() != nil {
			writeError(w, http.StatusServiceUnavailable, "canceled", "request canceled")
			return
		}
		s.opts.Logger.Warn("report read failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "reports_unavailable", "PostgreSQL did not answer; retry later")
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// GET /reports
func (s *Server) getReportPage(w http.ResponseWriter, _ *http.Request) {
	writePage(w, s.reportPage)
}
