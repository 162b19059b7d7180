// Package sipptest holds what the tests that drive SIPp (an independent SIP
// implementation, see ../shared/PEERS.md) share across packages: picking the
// loopback ports SIPp binds. Only tests import it.
package sipptest
