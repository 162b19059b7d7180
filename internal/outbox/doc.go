// Package outbox delivers the callbacks of the store's outbox: status,
// recording and (later) conference callbacks, the HTTP requests to the user's
// app whose answers are ignored.
//
// A callback is written to the outbox (store.Callback) in the same
// transaction as the event that caused it, so it exists if and only if the
// event does. A Deliverer on each node claims due callbacks, sends them with
// the webhook client, and removes them once the app has answered 2xx:
//
//	d := outbox.New(outbox.Config{Store: st, Client: client, OnError: notify})
//	go d.Run(ctx)
//	...
//	st.SaveCall(ctx, call, ev, cbs) // then
//	d.Kick()                        // deliver now rather than at the next poll
//
// # Guarantees
//
// At least once. A callback leaves the outbox only when it has been delivered
// (any 2xx answer) or given up on: after MaxAttempts failed attempts, or when
// its account no longer exists. A crash, a kill or a lost database connection
// between the request and the acknowledgement means the callback is sent
// again, so the app may see a callback twice; it never sees one lost.
//
// Never twice at once. ClaimCallbacks leases each callback to one node (by
// Config.Node) until now+Lease; no other node, and no other claim of this
// one, gets it while the lease holds. A node renews its leases every Lease/3
// while deliveries run, so a slow app (up to the webhook client's 15 s total
// timeout) never loses its lease to another node. The lease (60 s by
// default) is longer than a delivery can take.
//
// Lease takeover. When a node dies, or its Run's context ends, deliveries in
// flight are abandoned with their leases held; once the leases expire, any
// node's next poll (Config.Poll) claims those callbacks and delivers them.
// Acknowledging a callback whose lease was lost fails harmlessly
// (store.ErrNotFound, logged); that is the one way two nodes can both
// deliver a callback, and only when a node stalled for longer than its lease.
//
// Ordered per call. Only the oldest pending callback of each call can be
// claimed (the store's head-of-line rule), so a call's callbacks reach the
// app one at a time, in ID (queueing) order, whatever Config.Workers is and
// however many nodes deliver: callback n+1 is not sent before callback n has
// been answered or given up on. A failed callback holds back the rest of its
// call until it is retried. Callbacks of different calls go in parallel, up
// to Workers per node.
//
// Retries. A failed attempt (an *webhook.Error, reported to Config.OnError)
// is rescheduled after Backoff (1 s), doubling with each failure up to
// MaxBackoff (1 min), as webhook.Dispatcher does, until the callback's
// MaxAttempts is used up.
//
// Idempotency token. Every attempt at a callback carries the same
// I-Twilio-Idempotency-Token (see IdempotencyToken): it is derived from the
// outbox row (account, call, ID and creation time), not from the node, so a
// redelivery after a crash or by another node can be recognised by the app
// as a duplicate. Each request is signed (X-Twilio-Signature) with the
// account's current auth token, looked up at delivery and cached for a few
// seconds.
//
// Waking up. A Deliverer looks at the outbox when kicked (Kick, after a
// callback is queued on this node), when one of its deliveries ends (the
// call's next callback may be due), when a retry it scheduled falls due, and
// every Poll otherwise (callbacks queued by other nodes, expired leases). It
// never polls faster than that when there is nothing to do.
//
// Shutdown. Drain delivers what is due and returns once nothing due is left
// that this node can claim; then ending Run's context abandons only what is
// still in flight (delivered again later, at least once).
package outbox
