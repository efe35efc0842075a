package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
)

// ErrBadPage is wrapped when a page token is malformed or belongs to
// another query.
var ErrBadPage = errors.New("invalid page token")

// DeviceQuery asks for a device's events with From <= at < To, newest
// first, Limit per page; Page continues a previous answer.
type DeviceQuery struct {
	Device   string
	From, To time.Time
	Limit    int
	Page     string
}

// DevicePage is one page of a device's events; Next is empty on the last.
type DevicePage struct {
	Events []contract.Stored
	Next   string
}

// CassandraStore reads events from the keyspace's tables.
type CassandraStore struct {
	sessions cqlsession.Source
	events   *eventstore.Store
	keyspace string
	lookback int
	now      func() time.Time
	// pageKey signs the page tokens (SetPageKey); every replica behind one
	// address needs the same.
	pageKey []byte
}

// SetPageKey sets the key page tokens are signed with. Without one the
// store signs with a random key of its own, valid in this process only.
func (c *CassandraStore) SetPageKey(key []byte) { c.pageKey = append([]byte(nil), key...) }

// NewCassandraStore returns the store; lookbackDays bounds how many UTC
// days the "latest" reads search back.
func NewCassandraStore(session *gocql.Session, keyspace string, lookbackDays int) *CassandraStore {
	return NewCassandraStoreFrom(cqlsession.Fixed{S: session}, keyspace, lookbackDays)
}

// NewCassandraStoreFrom is NewCassandraStore over a session that may be
// replaced while the API runs (a cqlsession.Rotating following the Cosmos DB
// key): every read asks sessions for the current session.
func NewCassandraStoreFrom(sessions cqlsession.Source, keyspace string, lookbackDays int) *CassandraStore {
	if lookbackDays <= 0 {
		lookbackDays = 7
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return &CassandraStore{sessions: sessions, events: eventstore.NewWithSource(sessions, keyspace), keyspace: keyspace, lookback: lookbackDays,
		now: time.Now, pageKey: key}
}

// Event implements Store.
func (c *CassandraStore) Event(ctx context.Context, id string) (contract.Stored, error) {
	return c.events.Get(ctx, id)
}

// days returns the UTC days to search for the newest rows: from the day of
// now plus the allowed clock skew back over the lookback.
func (c *CassandraStore) days() []time.Time {
	first := contract.Day(c.now().Add(contract.MaxFutureSkew))
	out := make([]time.Time, c.lookback+1)
	for i := range out {
		out[i] = first.AddDate(0, 0, -i)
	}
	return out
}

// newest reads up to limit rows of a (key, day)-partitioned table, newest
// day first, until it has limit rows or the lookback is exhausted.
func (c *CassandraStore) newest(ctx context.Context, table, keyCol, key string, limit int) ([]contract.Stored, error) {
	cql := eventstore.SelectCQL(c.keyspace, table, keyCol+" = ? AND day = ? LIMIT ?")
	var out []contract.Stored
	for _, day := range c.days() {
		iter := c.sessions.Session().Query(cql, key, day, limit-len(out)).WithContext(ctx).Idempotent(true).Iter()
		out = append(out, eventstore.ReadRows(iter)...)
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("read %s of %s on %s: %w", table, key, day.Format(time.DateOnly), err)
		}
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

// SiteCritical implements Store: the site's newest critical events.
func (c *CassandraStore) SiteCritical(ctx context.Context, site string, limit int) ([]contract.Stored, error) {
	return c.newest(ctx, contract.TableCriticalBySite, "site", site, limit)
}

// DeviceLatest implements Store.
func (c *CassandraStore) DeviceLatest(ctx context.Context, device string) (contract.Stored, error) {
	evs, err := c.newest(ctx, contract.TableEventsByDevice, "device", device, 1)
	if err != nil {
		return contract.Stored{}, err
	}
	if len(evs) == 0 {
		return contract.Stored{}, eventstore.ErrNotFound
	}
	return evs[0], nil
}

// pageToken continues a device query: the day partition and the paging
// state within it, bound to the query by a hash of its parameters.
type pageToken struct {
	Day   string `json:"d"`
	State []byte `json:"s,omitempty"`
	Query string `json:"q"`
}

func queryHash(q DeviceQuery) string {
	h := sha256.Sum256([]byte(q.Device + "\x00" + q.From.Format(time.RFC3339Nano) + "\x00" + q.To.Format(time.RFC3339Nano)))
	return base64.RawURLEncoding.EncodeToString(h[:9])
}

// pageMACBytes is how much of the token's HMAC-SHA256 it carries, and
// maxPageBytes the most a token may hold (JSON and MAC, before base64):
// decodePage reads no longer ones, so encodePage makes none.
const (
	pageMACBytes = 16
	maxPageBytes = 4096
)

// encodePage writes a token: the JSON, then its MAC under key, so a client
// cannot hand Cassandra a paging state the API did not give it.
func encodePage(t pageToken, key []byte) (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encode page token: %w", err)
	}
	if len(b)+pageMACBytes > maxPageBytes {
		return "", fmt.Errorf("encode page token: a paging state of %d bytes makes a token over %d bytes", len(t.State), maxPageBytes)
	}
	return base64.RawURLEncoding.EncodeToString(append(b, pageMAC(b, key)...)), nil
}

func pageMAC(payload, key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return m.Sum(nil)[:pageMACBytes]
}

// decodePage checks the token's MAC before it reads anything of it.
func decodePage(s string, q DeviceQuery, key []byte) (pageToken, time.Time, error) {
	var t pageToken
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) > maxPageBytes || len(raw) <= pageMACBytes {
		return t, time.Time{}, fmt.Errorf("%w: not a page token of this API", ErrBadPage)
	}
	b, mac := raw[:len(raw)-pageMACBytes], raw[len(raw)-pageMACBytes:]
	if !hmac.Equal(mac, pageMAC(b, key)) {
		return t, time.Time{}, fmt.Errorf("%w: not signed by this API (or its key changed since)", ErrBadPage)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, time.Time{}, fmt.Errorf("%w: not a page token of this API", ErrBadPage)
	}
	if t.Query != queryHash(q) {
		return t, time.Time{}, fmt.Errorf("%w: it belongs to another device or time range", ErrBadPage)
	}
	day, err := time.Parse(time.DateOnly, t.Day)
	if err != nil || day.Before(contract.Day(q.From)) || day.After(contract.Day(q.To)) {
		return t, time.Time{}, fmt.Errorf("%w: day out of range", ErrBadPage)
	}
	return t, day, nil
}

// DeviceEvents implements Store: the device's day partitions from To's
// back to From's, each read with Cassandra paging, so a page never holds
// more than Limit rows and a token resumes exactly where the last page
// stopped.
func (c *CassandraStore) DeviceEvents(ctx context.Context, q DeviceQuery) (DevicePage, error) {
	last := q.To.Add(-time.Millisecond)
	day := contract.Day(last)
	var state []byte
	if q.Page != "" {
		t, d, err := decodePage(q.Page, q, c.pageKey)
		if err != nil {
			return DevicePage{}, err
		}
		day, state = d, t.State
	}
	first := contract.Day(q.From)
	cql := eventstore.SelectCQL(c.keyspace, contract.TableEventsByDevice, "device = ? AND day = ? AND at >= ? AND at < ?")
	var out DevicePage
	for !day.Before(first) {
		want := q.Limit - len(out.Events)
		iter := c.sessions.Session().Query(cql, q.Device, day, q.From, q.To).WithContext(ctx).Idempotent(true).PageSize(want).PageState(state).Iter()
		out.Events = append(out.Events, eventstore.ReadRows(iter)...)
		next := append([]byte(nil), iter.PageState()...)
		if err := iter.Close(); err != nil {
			var re gocql.RequestError
			if q.Page != "" && errors.As(err, &re) && re.Code() == gocql.ErrCodeInvalid {
				return DevicePage{}, fmt.Errorf("%w: %s", ErrBadPage, strings.ToLower(re.Message()))
			}
			return DevicePage{}, fmt.Errorf("read events of %s on %s: %w", q.Device, day.Format(time.DateOnly), err)
		}
		state = next
		if len(state) == 0 {
			day = day.AddDate(0, 0, -1)
		}
		if len(out.Events) >= q.Limit {
			break
		}
	}
	if !day.Before(first) {
		tok, err := encodePage(pageToken{Day: day.Format(time.DateOnly), State: state, Query: queryHash(q)}, c.pageKey)
		if err != nil {
			return DevicePage{}, err
		}
		out.Next = tok
	}
	return out, nil
}

// Ready implements Store.
func (c *CassandraStore) Ready(ctx context.Context) error {
	if c.sessions.Session().Closed() {
		return errors.New("cassandra session closed")
	}
	return c.sessions.Session().Query("SELECT release_version FROM system.local").WithContext(ctx).Exec()
}
