package sip

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// dialog is the state RFC 3261 §12 keeps for a dialog, from switchboard's side
// whatever its role: the identifiers, the remote target and route set, and the
// CSeq counters. It builds the requests switchboard sends within the dialog.
type dialog struct {
	callID    string
	localTag  string
	remoteTag string
	// local and remote are the From and To of requests switchboard sends.
	local, remote nameAddr
	transport     string // "UDP" or "TCP"
	// source is the far end's address the dialog was set up from; on a stream
	// transport its connection is reused for requests within the dialog.
	source string

	// mu guards the fields below.
	mu        sync.Mutex
	target    sip.Uri  // the far end's Contact (RFC 3261 §12.1)
	routes    []string // Route header values, in the order they are sent
	localSeq  uint32
	remoteSeq uint32
}

type nameAddr struct {
	name string
	uri  sip.Uri
}

func (d *dialog) key() dialogKey {
	return dialogKey{callID: d.callID, localTag: d.localTag, remoteTag: d.remoteTag}
}

// uasDialog is the dialog an INVITE creates for switchboard as the UAS
// (RFC 3261 §12.1.1): the route set is the Record-Route list as received.
func uasDialog(req *sip.Request, localTag string) *dialog {
	from, to := req.From(), req.To()
	d := &dialog{
		callID:    string(*req.CallID()),
		localTag:  localTag,
		transport: strings.ToUpper(req.Transport()),
		source:    req.Source(),
		local:     nameAddr{to.DisplayName, *to.Address.Clone()},
		remote:    nameAddr{from.DisplayName, *from.Address.Clone()},
		remoteSeq: req.CSeq().SeqNo,
		localSeq:  1,
	}
	d.remoteTag, _ = from.Params.Get("tag")
	if c := req.Contact(); c != nil {
		d.target = *c.Address.Clone()
	} else {
		d.target = *from.Address.Clone()
	}
	for _, h := range req.GetHeaders("Record-Route") {
		d.routes = append(d.routes, splitHeaderValues(h.Value())...)
	}
	return d
}

// uacDialog is the dialog a 2xx creates for switchboard as the UAC (RFC 3261
// §12.1.2): the route set is the Record-Route list of the response, reversed.
func uacDialog(inv *sip.Request, res *sip.Response) *dialog {
	from, to := inv.From(), res.To()
	d := &dialog{
		callID:    string(*inv.CallID()),
		transport: strings.ToUpper(inv.Transport()),
		source:    res.Source(),
		local:     nameAddr{from.DisplayName, *from.Address.Clone()},
		remote:    nameAddr{to.DisplayName, *to.Address.Clone()},
		localSeq:  inv.CSeq().SeqNo,
	}
	d.localTag, _ = from.Params.Get("tag")
	d.remoteTag, _ = to.Params.Get("tag")
	if c := res.Contact(); c != nil {
		d.target = *c.Address.Clone()
	} else {
		d.target = *inv.Recipient.Clone()
	}
	var rr []string
	for _, h := range res.GetHeaders("Record-Route") {
		rr = append(rr, splitHeaderValues(h.Value())...)
	}
	for i := len(rr) - 1; i >= 0; i-- {
		d.routes = append(d.routes, rr[i])
	}
	return d
}

// splitHeaderValues splits a comma-separated header value, respecting <...>
// and quotes.
func splitHeaderValues(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// acceptRemoteSeq checks the CSeq of a request received within the dialog and
// records it (RFC 3261 §12.2.2: a lower one is out of order and gets a 500).
func (d *dialog) acceptRemoteSeq(seq uint32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if seq < d.remoteSeq {
		return false
	}
	d.remoteSeq = seq
	return true
}

// refreshTarget takes the Contact of a target refresh request (re-INVITE) as
// the new remote target (RFC 3261 §12.2.2).
func (d *dialog) refreshTarget(req *sip.Request) {
	if c := req.Contact(); c != nil {
		d.mu.Lock()
		d.target = *c.Address.Clone()
		d.mu.Unlock()
	}
}

// newRequest builds a request within the dialog (RFC 3261 §12.2.1.1): the
// remote target as Request-URI, the route set as Route headers, From and To
// with the dialog's tags, and the next local CSeq.
func (d *dialog) newRequest(s *Server, method sip.RequestMethod) *sip.Request {
	d.mu.Lock()
	d.localSeq++
	seq := d.localSeq
	target := *d.target.Clone()
	routes := d.routes
	d.mu.Unlock()
	return d.buildRequest(s, method, target, routes, seq)
}

// ack builds the ACK for a 2xx to the INVITE with CSeq seq (RFC 3261
// §13.2.2.4): it carries the INVITE's sequence number and is sent outside any
// transaction.
func (d *dialog) ack(s *Server, seq uint32) *sip.Request {
	d.mu.Lock()
	target := *d.target.Clone()
	routes := d.routes
	d.mu.Unlock()
	return d.buildRequest(s, sip.ACK, target, routes, seq)
}

func (d *dialog) buildRequest(s *Server, method sip.RequestMethod, target sip.Uri, routes []string, seq uint32) *sip.Request {
	req := sip.NewRequest(method, target)
	from := &sip.FromHeader{DisplayName: d.local.name, Address: *d.local.uri.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", d.localTag)
	to := &sip.ToHeader{DisplayName: d.remote.name, Address: *d.remote.uri.Clone(), Params: sip.NewParams()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	callID := sip.CallIDHeader(d.callID)
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	req.AppendHeader(&maxFwd)
	for _, r := range routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	req.AppendHeader(s.contact(d.transport))
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	req.SetTransport(d.transport)
	if len(routes) > 0 {
		// Loose routing (RFC 3261 §16.12): the first Route is the next hop.
		var ru sip.Uri
		if err := sip.ParseUri(strings.Trim(routeURI(routes[0]), "<>"), &ru); err == nil {
			port := ru.Port
			if port == 0 {
				port = sip.DefaultPort(d.transport)
			}
			req.SetDestination(fmt.Sprintf("%s:%d", ru.Host, port))
		}
		// On UDP, still leave from the listening socket.
		s.route(req, "")
	} else {
		s.route(req, d.source)
	}
	req.SetBody(nil)
	return req
}

// routeURI extracts the URI of a Route value "<sip:p1.example.com;lr>;x=y".
func routeURI(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	return v
}

// route picks the socket a request leaves from: on UDP the listening socket
// (so Via and Contact name a port that answers), on a stream transport the
// connection the far end opened, when it is still open.
func (s *Server) route(req *sip.Request, source string) {
	s.mu.Lock()
	laddr := s.udpLaddr
	s.mu.Unlock()
	if strings.EqualFold(req.Transport(), "UDP") {
		req.Laddr = laddr
		return
	}
	if source == "" {
		return
	}
	if pool := s.ua.TransportLayer().Pool(req.Transport()); pool != nil {
		if c := pool.Get(source); c != nil {
			_, _ = c.TryClose()
			req.SetDestination(source)
		}
	}
}

// do sends a request in a new client transaction and returns its final
// response.
func (s *Server) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := s.client.TransactionRequest(ctx, req, sipgo.ClientRequestAddVia)
	if err != nil {
		return nil, fmt.Errorf("send %s: %w", req.Method, err)
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			return nil, fmt.Errorf("%s: %w", req.Method, tx.Err())
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w", req.Method, ctx.Err())
		}
	}
}
