package sip

// TxDone is closed once sipgo has ended the call's INVITE transaction (after
// InviteLinger, for an answered call).
func (c *InboundCall) TxDone() <-chan struct{} { return c.tx.Done() }
