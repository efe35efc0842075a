package eventstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
)

// Columns are the event columns every read selects, in the order ReadRow
// scans them: the columns of events_by_id, which every event table holds
// too (the others add only their partition keys).
var Columns = func() string {
	t, ok := contract.TableByName(contract.TableEventsByID)
	if !ok {
		panic("eventstore: schema has no " + contract.TableEventsByID)
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}()

// SelectCQL is the query for the event rows of keyspace.table matching
// where (no WHERE clause when where is empty), selecting Columns.
func SelectCQL(keyspace, table, where string) string {
	q := fmt.Sprintf("SELECT %s FROM %s.%s", Columns, keyspace, table)
	if where != "" {
		q += " WHERE " + where
	}
	return q
}

// row holds the scan targets of one event row, in Columns order.
type row struct {
	st    contract.Stored
	id    gocql.UUID
	attrs map[string]string
}

func (r *row) dest() []any {
	return []any{&r.id, &r.st.Site, &r.st.Device, &r.st.Kind, &r.st.Value, &r.st.Unit, &r.st.Severity, &r.st.At, &r.attrs, &r.st.IngestedAt}
}

// stored is the scanned row as a stored event: schema version set, times
// in UTC (gocql returns them in local time), no empty attrs map.
func (r *row) stored() contract.Stored {
	st := r.st
	st.V = contract.SchemaVersion
	st.ID = r.id.String()
	st.At = st.At.UTC()
	st.IngestedAt = st.IngestedAt.UTC()
	if len(r.attrs) > 0 {
		st.Attrs = r.attrs
	}
	return st
}

// ReadRow reads one row selected with Columns through scan (a gocql
// Query.Scan or Scanner.Scan).
func ReadRow(scan func(dest ...any) error) (contract.Stored, error) {
	var r row
	if err := scan(r.dest()...); err != nil {
		return contract.Stored{}, err
	}
	return r.stored(), nil
}

// ReadRows reads the rows of iter (a query selecting Columns) until the
// iterator stops; the caller reads its paging state and closes it.
func ReadRows(iter *gocql.Iter) []contract.Stored {
	var out []contract.Stored
	for {
		var r row
		if !iter.Scan(r.dest()...) {
			return out
		}
		out = append(out, r.stored())
	}
}

// HourStatement is the idempotent INSERT of ev's events_by_hour row alone:
// for tools that fill the batch path's table without the others.
func (s *Store) HourStatement(ev contract.Event, ingestedAt time.Time) (Statement, error) {
	id, err := gocql.ParseUUID(ev.ID)
	if err != nil {
		return Statement{}, fmt.Errorf("event id %q: %w", ev.ID, err)
	}
	return s.rowStatement(contract.TableEventsByHour, s.values(ev, id, ingestedAt)), nil
}

// DeleteHours removes the events_by_hour partitions of [from, to).
func DeleteHours(ctx context.Context, session *gocql.Session, keyspace string, from, to time.Time) error {
	cql := fmt.Sprintf("DELETE FROM %s.%s WHERE hour = ? AND shard = ?", keyspace, contract.TableEventsByHour)
	for h := contract.Hour(from); h.Before(to); h = h.Add(time.Hour) {
		for s := range contract.HourShards {
			if err := session.Query(cql, h, s).WithContext(ctx).Exec(); err != nil {
				return fmt.Errorf("delete partition %s/%d: %w", h.Format(time.RFC3339), s, err)
			}
		}
	}
	return nil
}
