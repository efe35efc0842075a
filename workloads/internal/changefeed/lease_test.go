package changefeed

import (
	"testing"
	"time"
)

// The runner's deadline is built on Until, so it must answer while a
// conditional update hangs holding the lease's update lock.
func TestLeaseUntilAnswersWhileAnUpdateHangs(t *testing.T) {
	until := time.Now().Add(time.Minute)
	c := &cqlLease{until: until}
	c.mu.Lock() // a Renew or Save stuck in its lightweight transaction
	defer c.mu.Unlock()
	got := make(chan time.Time, 1)
	go func() { got <- c.Until() }()
	select {
	case u := <-got:
		if !u.Equal(until) {
			t.Fatalf("Until %s, want %s", u, until)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Until waited for the hanging update")
	}
}
