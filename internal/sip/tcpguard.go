package sip

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// SIP over TCP costs a file descriptor and a reader goroutine per connection,
// and sipgo keeps a connection for as long as the peer does. Without limits a
// thousand idle connections exhaust the descriptors the calls' RTP sockets
// need. guardedListener, the listener handed to sipgo, sets them:
//
//   - a connection must deliver one complete header block (up to CRLFCRLF)
//     within Config.TCPHandshakeTimeout of its accept, or it is closed;
//   - after that it lives Config.TCPIdleTimeout from its last traffic, read or
//     written (Kamailio's habit: 120 s);
//   - at most Config.MaxTCPConnsPerIP connections per source address and
//     Config.MaxTCPConns in all: the ones over are closed on accept.
//
// The timeouts are read deadlines on the connection; a read that hits one ends
// as io.EOF, as does a reset by the peer, so sipgo closes the connection
// quietly (other read errors it logs at ERROR, once per connection).

// guardedListener wraps the SIP TCP listener (see above).
type guardedListener struct {
	net.Listener
	s         *Server
	handshake time.Duration // <= 0: none
	idle      time.Duration // <= 0: none
	perIP     int           // <= 0: no cap
	total     int           // <= 0: no cap

	// mu guards the fields below.
	mu    sync.Mutex
	open  int
	perIn map[netip.Addr]int
}

func (s *Server) guardListener(l net.Listener) *guardedListener {
	return &guardedListener{
		Listener: l, s: s,
		handshake: s.cfg.TCPHandshakeTimeout, idle: s.cfg.TCPIdleTimeout,
		perIP: s.cfg.MaxTCPConnsPerIP, total: s.cfg.MaxTCPConns,
		perIn: make(map[netip.Addr]int),
	}
}

// Accept returns the next connection within the caps, closing the ones over
// them. A failing accept (out of file descriptors) is retried after a pause
// growing to 1 s, as net/http does, rather than returned: sipgo would stop
// serving TCP for good.
func (l *guardedListener) Accept() (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			if ok, n := l.s.noise.allow("tcp accept"); ok {
				l.s.log.Warn("sip tcp accept failed; retrying", "err", err, "retry_in", pause, "suppressed", n)
			}
			time.Sleep(pause)
			continue
		}
		pause = 0
		ip := remoteIP(c)
		if reason := l.admit(ip); reason != "" {
			_ = c.Close()
			if ok, n := l.s.noise.allow("tcp refused " + ip.String()); ok {
				l.s.log.Warn("sip tcp connection refused", "source", ip.String(), "reason", reason, "suppressed", n)
			}
			continue
		}
		g := &guardedConn{Conn: c, l: l, ip: ip}
		if l.handshake > 0 {
			if err := c.SetReadDeadline(time.Now().Add(l.handshake)); err != nil {
				_ = g.Close()
				continue
			}
		}
		return g, nil
	}
}

// admit counts a new connection from ip, or says which cap it is over.
func (l *guardedListener) admit(ip netip.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total > 0 && l.open >= l.total:
		return "too many tcp connections"
	case l.perIP > 0 && l.perIn[ip] >= l.perIP:
		return "too many tcp connections from this address"
	}
	l.open++
	l.perIn[ip]++
	return ""
}

func (l *guardedListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if n := l.perIn[ip] - 1; n > 0 {
		l.perIn[ip] = n
	} else {
		delete(l.perIn, ip)
	}
}

func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// guardedConn is an accepted connection under the guardedListener's
// timeouts. sipgo reads it from one goroutine and writes it from others.
type guardedConn struct {
	net.Conn
	l  *guardedListener
	ip netip.Addr
	// greeted is set once a complete header block arrived: the idle timeout
	// then replaces the handshake timeout.
	greeted atomic.Bool
	// scan state for the first header block, touched by Read only.
	inMsg bool // a byte other than CR or LF was seen
	match int  // how much of CRLFCRLF the last bytes matched
	once  sync.Once
}

// Read reads, pushing the idle deadline on after traffic; a read that hits a
// deadline ends the connection with io.EOF.
func (c *guardedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		if !c.greeted.Load() && c.scan(b[:n]) {
			c.greeted.Store(true)
		}
		c.touch()
	}
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.l.s.log.Debug("sip tcp connection timed out", "source", c.RemoteAddr().String(), "greeted", c.greeted.Load())
		_ = c.Close()
		return n, io.EOF
	case errors.Is(err, syscall.ECONNRESET):
		// The peer's way of closing; sipgo would log it at ERROR.
		return n, io.EOF
	}
	return n, err
}

// Write writes; what is written counts as traffic too.
func (c *guardedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.touch()
	}
	return n, err
}

// touch moves the read deadline to the idle timeout from now, once the
// connection has delivered a message.
func (c *guardedConn) touch() {
	if c.l.idle > 0 && c.greeted.Load() {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.l.idle))
	}
}

// scan looks for the end of the first header block (CRLFCRLF after a byte
// other than CR or LF: keep-alive CRLFs before it do not count).
func (c *guardedConn) scan(p []byte) bool {
	for _, ch := range p {
		if !c.inMsg {
			if ch == '\r' || ch == '\n' {
				continue
			}
			c.inMsg = true
		}
		switch {
		case ch == '\r' && c.match%2 == 0:
			c.match++
		case ch == '\n' && c.match%2 == 1:
			c.match++
			if c.match == 4 {
				return true
			}
		case ch == '\r':
			c.match = 1
		default:
			c.match = 0
		}
	}
	return false
}

// Close closes the connection and frees its place under the caps.
func (c *guardedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}
