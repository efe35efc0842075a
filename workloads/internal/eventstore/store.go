package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
)

// ErrNotFound is returned by Get for an id with no event.
var ErrNotFound = errors.New("event not found")

// Store reads and writes events in one keyspace.
type Store struct {
	sessions cqlsession.Source
	keyspace string
	inserts  map[string]insert // by table name
	// columns are the event tables' columns, each once: an event's values
	// are computed (and boxed) once and shared by its rows.
	columns []string
	getByID string
	outbox  string // the outbox INSERT; empty when the outbox is off
	// oneByOne sends an event's statements one at a time instead of as
	// one batch.
	oneByOne bool
	// marks keeps the hour marks; nil when they are off (WithHourMarks).
	marks *hourMarker
}

// Option configures a Store.
type Option func(*Store)

// WithOutbox makes every upsert also append the event to the outbox table
// (contract.TableEventsOutbox when table is empty), the local change feed
// of plain Apache Cassandra. The outbox row goes in the same batch as the
// event's rows, and its timeuuid is taken when that write starts, so a row
// becomes visible at most one write timeout after the time it carries.
func WithOutbox(table string) Option {
	return func(s *Store) {
		if table == "" {
			table = contract.TableEventsOutbox
		}
		s.outbox = fmt.Sprintf("INSERT INTO %s.%s (bucket, shard, tid, id, device, payload, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?)", s.keyspace, table)
	}
}

// WithStatementWrites makes Upsert send an event's rows one statement at a
// time, in table order with the outbox row last, instead of one unlogged
// batch: slower (a round trip per table), for a store that refuses batches
// spanning tables.
func WithStatementWrites() Option {
	return func(s *Store) { s.oneByOne = true }
}

type insert struct {
	cql   string
	slots []int // each column's index in Store.columns
}

// New prepares the statements for the keyspace's event tables on one
// session.
func New(session *gocql.Session, keyspace string, opts ...Option) *Store {
	return NewWithSource(cqlsession.Fixed{S: session}, keyspace, opts...)
}

// NewWithSource is New for sessions that may be replaced while the store
// is in use (see SessionSource).
func NewWithSource(sessions cqlsession.Source, keyspace string, opts ...Option) *Store {
	s := &Store{sessions: sessions, keyspace: keyspace, inserts: map[string]insert{}}
	for _, o := range opts {
		o(s)
	}
	slotOf := map[string]int{}
	for _, t := range contract.Tables() {
		if !slices.Contains(criticalTables, t.Name) {
			continue // not an event table
		}
		cols := make([]string, len(t.Columns))
		marks := make([]string, len(t.Columns))
		slots := make([]int, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = c.Name
			marks[i] = "?"
			k, ok := slotOf[c.Name]
			if !ok {
				k = len(s.columns)
				slotOf[c.Name] = k
				s.columns = append(s.columns, c.Name)
			}
			slots[i] = k
		}
		s.inserts[t.Name] = insert{
			cql:   fmt.Sprintf("INSERT INTO %s.%s (%s) VALUES (%s)", keyspace, t.Name, strings.Join(cols, ", "), strings.Join(marks, ", ")),
			slots: slots,
		}
	}
	s.getByID = SelectCQL(keyspace, contract.TableEventsByID, "id = ?")
	return s
}

// Tables returns the tables an event is written to: every event goes to
// events_by_id, events_by_device and events_by_hour, critical ones also to
// critical_by_site.
func Tables(ev contract.Event) []string {
	if ev.Severity == contract.SeverityCritical {
		return slices.Clone(criticalTables)
	}
	return slices.Clone(criticalTables[:3])
}

// criticalTables are the tables of a critical event, every event table:
// those of any event first.
var criticalTables = []string{contract.TableEventsByID, contract.TableEventsByDevice, contract.TableEventsByHour, contract.TableCriticalBySite}

// Statement is one CQL statement with its bound values.
type Statement struct {
	CQL  string
	Args []any
}

// Statements returns the idempotent INSERTs that store one event, one per
// table it belongs to. Upsert runs them; benchmarks run them bare.
func (s *Store) Statements(ev contract.Event, ingestedAt time.Time) ([]Statement, error) {
	return s.statements(ev, ingestedAt, ingestedAt)
}

// statements is Statements with the outbox row stamped at stamp.
func (s *Store) statements(ev contract.Event, ingestedAt, stamp time.Time) ([]Statement, error) {
	id, err := gocql.ParseUUID(ev.ID)
	if err != nil {
		return nil, fmt.Errorf("event id %q: %w", ev.ID, err)
	}
	tables := Tables(ev)
	out := make([]Statement, len(tables))
	vals := s.values(ev, id, ingestedAt)
	for i, table := range tables {
		out[i] = s.rowStatement(table, vals)
	}
	if s.outbox != "" {
		st, err := s.outboxStatement(ev, id, ingestedAt, stamp)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// values are ev's column values in the order of s.columns.
func (s *Store) values(ev contract.Event, id gocql.UUID, ingestedAt time.Time) []any {
	vals := make([]any, len(s.columns))
	for i, c := range s.columns {
		vals[i] = columnValue(c, ev, id, ingestedAt)
	}
	return vals
}

// rowStatement is the INSERT of an event's row in table, from its values.
func (s *Store) rowStatement(table string, vals []any) Statement {
	ins := s.inserts[table]
	args := make([]any, len(ins.slots))
	for j, k := range ins.slots {
		args[j] = vals[k]
	}
	return Statement{CQL: ins.cql, Args: args}
}

// outboxStatement is the outbox row of an event, stamped at stamp: its
// bucket and timeuuid. The payload is the event's wire form with the time
// cut to milliseconds, as the event tables store it.
func (s *Store) outboxStatement(ev contract.Event, id gocql.UUID, ingestedAt, stamp time.Time) (Statement, error) {
	stored := ev
	stored.At = ev.At.UTC().Truncate(time.Millisecond)
	payload, err := stored.Marshal()
	if err != nil {
		return Statement{}, fmt.Errorf("outbox payload of event %s: %w", ev.ID, err)
	}
	return Statement{CQL: s.outbox, Args: []any{
		contract.OutboxBucketOf(stamp), contract.OutboxShard(ev.Device), gocql.UUIDFromTime(stamp),
		id, ev.Device, string(payload), ingestedAt.UTC(),
	}}, nil
}

// Upsert writes one event to all its tables. It is safe to repeat: every
// statement is an idempotent INSERT of the same values. ingestedAt is stored
// alongside for latency measurement and auditing; a repeat overwrites it.
//
// All of an event's rows, the outbox row included, go in one UNLOGGED batch
// (see ExecBatch): one round trip instead of one per table, which is what
// Cassandra spends most of its time on at these row sizes. The batch is not
// atomic, so a change-feed reader may see the outbox row a moment before
// the event tables hold the event; it reads the event from the outbox row,
// and a failed batch is retried whole until every row is there.
func (s *Store) Upsert(ctx context.Context, ev contract.Event, ingestedAt time.Time) error {
	// The outbox row is stamped now, not at ingestedAt: a retry may come
	// long after, and the change feed relies on a row landing soon after
	// the time it carries.
	stmts, err := s.statements(ev, ingestedAt, time.Now())
	if err != nil {
		return fmt.Errorf("upsert event: %w", err)
	}
	if s.marks != nil {
		// Before every attempt, so a retry long after the first one still
		// lands within the contract's lag of a mark.
		if err := s.marks.ensure(ctx, contract.Hour(ev.At)); err != nil {
			return fmt.Errorf("upsert event %s: %w", ev.ID, err)
		}
	}
	session := s.sessions.Session()
	if !s.oneByOne {
		if err := ExecBatch(ctx, session, stmts); err != nil {
			return fmt.Errorf("upsert event %s: %w", ev.ID, err)
		}
		return nil
	}
	for _, st := range stmts {
		if err := session.Query(st.CQL, st.Args...).WithContext(ctx).Idempotent(true).Exec(); err != nil {
			return fmt.Errorf("upsert event %s: %w", ev.ID, err)
		}
	}
	return nil
}

// ExecBatch runs idempotent statements as one UNLOGGED batch (a single
// statement runs on its own). Unlogged batches are the only kind Cosmos DB
// accepts; they are not atomic, which idempotent INSERTs do not need: a
// failed batch is retried whole. An event's rows span at most five
// partitions, under Cassandra's warning threshold for unlogged batches
// (unlogged_batch_across_partitions_warn_threshold, 10).
func ExecBatch(ctx context.Context, session *gocql.Session, stmts []Statement) error {
	switch len(stmts) {
	case 0:
		return nil
	case 1:
		return session.Query(stmts[0].CQL, stmts[0].Args...).WithContext(ctx).Idempotent(true).Exec()
	}
	b := session.NewBatch(gocql.UnloggedBatch).WithContext(ctx)
	for _, st := range stmts {
		b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: st.CQL, Args: st.Args, Idempotent: true})
	}
	return session.ExecuteBatch(b)
}

func columnValue(col string, ev contract.Event, id gocql.UUID, ingestedAt time.Time) any {
	switch col {
	case "id":
		return id
	case "day":
		return contract.Day(ev.At)
	case "hour":
		return contract.Hour(ev.At)
	case "shard":
		return contract.Shard(ev.ID)
	case "site":
		return ev.Site
	case "device":
		return ev.Device
	case "kind":
		return ev.Kind
	case "value":
		return ev.Value
	case "unit":
		return ev.Unit
	case "severity":
		return ev.Severity
	case "at":
		return ev.At
	case "attrs":
		return ev.Attrs
	case "ingested_at":
		return ingestedAt.UTC()
	}
	// The schema and this switch live side by side; a column without a
	// value is a programming error caught by the store's tests.
	panic("eventstore: no value for column " + col)
}

// Get reads one event by id. A missing event is ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (contract.Stored, error) {
	uid, err := gocql.ParseUUID(id)
	if err != nil {
		return contract.Stored{}, fmt.Errorf("get event: id %q: %w", id, err)
	}
	st, err := ReadRow(s.sessions.Session().Query(s.getByID, uid).WithContext(ctx).Idempotent(true).Scan)
	if errors.Is(err, gocql.ErrNotFound) {
		return contract.Stored{}, ErrNotFound
	}
	if err != nil {
		return contract.Stored{}, fmt.Errorf("get event %s: %w", id, err)
	}
	return st, nil
}

// MigrateConfig connects with cc but without its keyspace (which may not
// exist yet) and migrates cc.Keyspace.
func MigrateConfig(ctx context.Context, cc cqlsession.Config, replicationFactor int) error {
	boot := cc
	boot.Keyspace = ""
	session, err := boot.Open()
	if err != nil {
		return err
	}
	defer session.Close()
	return Migrate(ctx, session, cc.Keyspace, replicationFactor)
}

// Migrate creates the keyspace (plain Apache Cassandra only; on Cosmos DB
// the infrastructure owns it) and every table, the outbox included,
// idempotently.
func Migrate(ctx context.Context, session *gocql.Session, keyspace string, replicationFactor int) error {
	if err := session.Query(contract.CreateKeyspaceCQL(keyspace, replicationFactor)).WithContext(ctx).Exec(); err != nil {
		return fmt.Errorf("create keyspace %s: %w", keyspace, err)
	}
	for _, t := range append(contract.Tables(), contract.OutboxTables()...) {
		if err := session.Query(t.CreateCQL(keyspace)).WithContext(ctx).Exec(); err != nil {
			return fmt.Errorf("create table %s: %w", t.Name, err)
		}
	}
	return nil
}
