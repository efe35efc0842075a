//go:build integration

package cqlproxy_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/google/uuid"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/cqlproxy"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
)

// TestProxyCountsEffectsAndThrottles writes events through the proxy to
// the real Cassandra: each acknowledged write is counted once per id (a
// batch binds the id in several tables), a repeated write counts twice,
// and a refused write reaches the client as Cosmos DB's Overloaded error
// with the RetryAfterMs the workloads honour, and has no effect.
func TestProxyCountsEffectsAndThrottles(t *testing.T) {
	ep := itest.Up(t, devservices.Cassandra)
	_, cc := itest.Cassandra(t, ep)
	upstream := fmt.Sprintf("%s:%d", cc.Hosts[0], cc.Port)
	p, err := cqlproxy.Start(upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	via := cc
	via.Hosts, via.Port = []string{"127.0.0.1"}, p.Port()
	session, err := via.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(session.Close)
	store := eventstore.New(session, cc.Keyspace)

	ev := func() contract.Event {
		return contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: "proxy-site", Device: "proxy-dev",
			Kind: "temperature", Value: 1, Unit: "C", Severity: contract.SeverityCritical, At: time.Now().UTC()}
	}
	once, twice, refused, unwatched := ev(), ev(), ev(), ev()
	p.Watch(cqlproxy.MustID(once.ID), cqlproxy.MustID(twice.ID), cqlproxy.MustID(refused.ID))
	ctx := context.Background()
	for _, e := range []contract.Event{once, twice, twice, unwatched} {
		if err := store.Upsert(ctx, e, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	p.SetInject(func() (bool, int) { return true, 42 })
	err = store.Upsert(ctx, refused, time.Now())
	p.SetInject(nil)
	var reqErr gocql.RequestError
	if !errors.As(err, &reqErr) || reqErr.Code() != gocql.ErrCodeOverloaded || cqlsession.RetryAfter(reqErr.Message()) != 42*time.Millisecond {
		t.Fatalf("refused write: %v, want Overloaded with RetryAfterMs=42", err)
	}
	if v := cqlsession.ClassifyWrite(err); !v.Retry || v.After != 42*time.Millisecond {
		t.Errorf("the workloads would not retry the injected Overloaded error: %+v", v)
	}
	fx := p.Effects()
	want := map[string]cqlproxy.Effects{
		once.ID:    {Sent: 1, Acked: 1},
		twice.ID:   {Sent: 2, Acked: 2},
		refused.ID: {Refused: 1},
	}
	for id, w := range want {
		if got := fx[cqlproxy.MustID(id)]; got != w {
			t.Errorf("effects of %s: %+v, want %+v", id, got, w)
		}
	}
	if len(fx) != 3 {
		t.Errorf("%d ids counted, want the 3 watched", len(fx))
	}
	if _, err := store.Get(ctx, refused.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("the refused event was stored: %v", err)
	}
	if p.BadFrames() != 0 {
		t.Errorf("%d connections carried frames the proxy could not read", p.BadFrames())
	}
}
