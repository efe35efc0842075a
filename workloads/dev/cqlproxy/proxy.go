package cqlproxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"
)

// CQL native protocol v4 framing (the version gocql speaks to Cassandra and
// Cosmos DB): a 9-byte header, then the body.
const (
	headerLen    = 9
	maxBodyLen   = 256 << 20 // the protocol's own limit
	flagCompress = 0x01

	opError   = 0x00
	opQuery   = 0x07
	opResult  = 0x08
	opExecute = 0x0A
	opBatch   = 0x0D

	// ErrOverloaded is the protocol's Overloaded error code: what Cosmos
	// DB answers a request over the provisioned RU/s with (its 429).
	ErrOverloaded = 0x1001
)

// ID is an event id as Cassandra's uuid type carries it: 16 bytes.
type ID [16]byte

// Effects are what the proxy saw for one event id.
type Effects struct {
	// Sent counts the write requests carrying the id that reached
	// Cassandra; Acked those Cassandra answered with a result (the write
	// took effect, whether or not the client got the answer); Failed those
	// it answered with an error; Refused those the proxy answered itself
	// (Inject) without forwarding.
	Sent, Acked, Failed, Refused int
}

// Inject decides, for each write request that carries a watched id,
// whether the proxy refuses it with Overloaded instead of forwarding it;
// retryAfterMs goes in the message the way Cosmos DB words it.
type Inject func() (refuse bool, retryAfterMs int)

// Proxy is a CQL proxy on a loopback port in front of one Cassandra node.
// It forwards every frame unchanged, except write requests it is told to
// refuse, and counts per watched event id the write requests and their
// outcomes: a duplicate effect is a second acknowledged write of the same
// id, visible here even when a primary key makes the tables look the same.
// Frames must be uncompressed (gocql's default).
type Proxy struct {
	ln       net.Listener
	upstream string

	mu      sync.Mutex
	watched map[ID]*Effects
	inject  Inject
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
	badWire atomic.Int64
}

// Start listens on a free loopback port and proxies to upstream
// (host:port).
func Start(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &Proxy{ln: ln, upstream: upstream, watched: map[ID]*Effects{}, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listen address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port is the proxy's listen port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Watch adds ids whose writes are counted.
func (p *Proxy) Watch(ids ...ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if p.watched[id] == nil {
			p.watched[id] = &Effects{}
		}
	}
}

// SetInject installs (or, with nil, removes) the refusal rule.
func (p *Proxy) SetInject(f Inject) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inject = f
}

// Effects returns a copy of the counts of every watched id.
func (p *Proxy) Effects() map[ID]Effects {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[ID]Effects, len(p.watched))
	for id, e := range p.watched {
		out[id] = *e
	}
	return out
}

// BadFrames counts connections dropped because a frame could not be read
// as protocol v4 without compression (which would make the counts wrong).
func (p *Proxy) BadFrames() int64 { return p.badWire.Load() }

// Close stops listening and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = client.Close()
			continue
		}
		if !p.track(client) || !p.track(server) {
			_ = client.Close()
			_ = server.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(client, server)
		}()
	}
}

// conn is one proxied connection: the requests in flight by stream id, and
// a lock so the proxy's own answers do not interleave with forwarded ones.
type conn struct {
	p              *Proxy
	client, server net.Conn
	writeMu        sync.Mutex
	mu             sync.Mutex
	pending        map[int16][]ID
	// clientGone is set once the client's end closed; answers are then
	// only counted, until none is pending.
	clientGone atomic.Bool
}

// SettleWait bounds how long the proxy keeps reading Cassandra's answers
// after the client went away (a killed process): writes in flight then
// still take effect, and are counted.
const SettleWait = 5 * time.Second

func (p *Proxy) serve(client, server net.Conn) {
	c := &conn{p: p, client: client, server: server, pending: map[int16][]ID{}}
	down := make(chan struct{})
	go func() {
		c.downstream()
		close(down)
		_ = client.Close() // Cassandra went away: so does the client's end
	}()
	c.upstream()
	c.clientGone.Store(true)
	_ = server.SetReadDeadline(time.Now().Add(SettleWait))
	if c.inFlight() == 0 {
		_ = server.Close()
	}
	<-down
	_ = client.Close()
	_ = server.Close()
	p.untrack(client)
	p.untrack(server)
	// Requests whose answer never came stay counted as sent only: their
	// outcome is unknown.
}

func (c *conn) inFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// upstream reads the client's frames and forwards them.
func (c *conn) upstream() {
	for {
		hdr, body, err := readFrame(c.client)
		if err != nil {
			if errors.Is(err, errBadFrame) {
				c.p.badWire.Add(1)
			}
			return
		}
		op, stream := hdr[4], int16(binary.BigEndian.Uint16(hdr[2:4]))
		if op == opQuery || op == opExecute || op == opBatch {
			if ids := c.p.idsIn(body); len(ids) > 0 {
				if refuse, after := c.p.shouldRefuse(); refuse {
					c.p.count(ids, func(e *Effects) { e.Refused++ })
					if err := c.answerOverloaded(hdr, after); err != nil {
						return
					}
					continue
				}
				c.mu.Lock()
				c.pending[stream] = ids
				c.mu.Unlock()
				c.p.count(ids, func(e *Effects) { e.Sent++ })
			}
		}
		if _, err := c.server.Write(append(hdr, body...)); err != nil {
			return
		}
	}
}

// downstream reads Cassandra's frames, settles the requests they answer
// and forwards them.
func (c *conn) downstream() {
	for {
		hdr, body, err := readFrame(c.server)
		if err != nil {
			if errors.Is(err, errBadFrame) {
				c.p.badWire.Add(1)
			}
			return
		}
		stream := int16(binary.BigEndian.Uint16(hdr[2:4]))
		c.mu.Lock()
		ids, ok := c.pending[stream]
		delete(c.pending, stream)
		c.mu.Unlock()
		if ok {
			switch hdr[4] {
			case opResult:
				c.p.count(ids, func(e *Effects) { e.Acked++ })
			case opError:
				c.p.count(ids, func(e *Effects) { e.Failed++ })
			}
		}
		if !c.clientGone.Load() {
			c.writeMu.Lock()
			_, err = c.client.Write(append(hdr, body...))
			c.writeMu.Unlock()
			if err != nil {
				c.clientGone.Store(true)
			}
		}
		if c.clientGone.Load() && c.inFlight() == 0 {
			return
		}
	}
}

// answerOverloaded answers the request of hdr with an Overloaded error, as
// Cosmos DB words it.
func (c *conn) answerOverloaded(req []byte, retryAfterMs int) error {
	msg := fmt.Sprintf("Request rate is large: RetryAfterMs=%d, injected by the test proxy", retryAfterMs)
	body := make([]byte, 0, 6+len(msg))
	body = binary.BigEndian.AppendUint32(body, ErrOverloaded)
	body = binary.BigEndian.AppendUint16(body, uint16(len(msg)))
	body = append(body, msg...)
	hdr := []byte{0x80 | req[0]&0x7f, 0, req[2], req[3], opError, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[5:], uint32(len(body)))
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err := c.client.Write(append(hdr, body...))
	return err
}

func (p *Proxy) shouldRefuse() (bool, int) {
	p.mu.Lock()
	f := p.inject
	p.mu.Unlock()
	if f == nil {
		return false, 0
	}
	return f()
}

func (p *Proxy) count(ids []ID, f func(*Effects)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if e := p.watched[id]; e != nil {
			f(e)
		}
	}
}

// idsIn returns the watched ids bound as values in a request body, each
// once. A uuid value is a [bytes] of length 16: the int32 16 followed by
// the id, so only positions after that prefix are looked up.
func (p *Proxy) idsIn(body []byte) []ID {
	var out []ID
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.watched) == 0 {
		return nil
	}
	for i := 0; i+4+16 <= len(body); i++ {
		if body[i] != 0 || body[i+1] != 0 || body[i+2] != 0 || body[i+3] != 16 {
			continue
		}
		var id ID
		copy(id[:], body[i+4:i+20])
		if _, ok := p.watched[id]; !ok {
			continue
		}
		dup := false
		for _, seen := range out {
			if seen == id {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, id)
		}
	}
	return out
}

var errBadFrame = errors.New("not an uncompressed protocol v4 frame")

// readFrame reads one frame: its header and body.
func readFrame(r io.Reader) (hdr, body []byte, err error) {
	hdr = make([]byte, headerLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, nil, err
	}
	// Versions 3 and 4 share this header (gocql may probe with 3);
	// version 5 frames differently once started, and gocql does not
	// speak it.
	if v := hdr[0] & 0x7f; v < 3 || v > 4 {
		return nil, nil, fmt.Errorf("%w: version %d", errBadFrame, v)
	}
	if hdr[1]&flagCompress != 0 {
		return nil, nil, fmt.Errorf("%w: compressed", errBadFrame)
	}
	n := binary.BigEndian.Uint32(hdr[5:9])
	if n > maxBodyLen {
		return nil, nil, fmt.Errorf("%w: body of %d bytes", errBadFrame, n)
	}
	body = make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, nil, err
	}
	return hdr, body, nil
}

// ParseID reads an event id in its text form.
func ParseID(s string) (ID, error) {
	u, err := gocql.ParseUUID(s)
	if err != nil {
		return ID{}, fmt.Errorf("event id %q: %w", s, err)
	}
	return ID(u), nil
}

// MustID is ParseID for ids the caller generated.
func MustID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}
