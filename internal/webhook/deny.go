package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrDenied: the address the request was about to connect to is in the
// server's deny list (Config.Deny). Twilio reports a URL that references a
// private IP address or localhost as error 11205, "HTTP connection failure"
// (https://www.twilio.com/docs/api/errors/11205); so does this package.
var ErrDenied = errors.New("webhook: address denied by the server's deny list")

// deniedMessage is what Error.Message says about a denied address: the
// tenant learns why, not which of the operator's ranges matched.
const deniedMessage = "the server does not allow requests to this address"

// DenyControl returns a net.Dialer Control function that refuses to connect
// to an IP address inside one of the prefixes; nil when deny is empty. It runs
// on the address the dialer is about to connect to, after DNS resolution, for
// every connection (each redirect's included), so a name that resolves, or is
// re-bound, to a denied address is refused too. An IPv4-mapped IPv6 address
// (::ffff:127.0.0.1) is checked as the IPv4 address it carries. The error
// wraps ErrDenied. With any list, the unspecified addresses (0.0.0.0, ::),
// which connect to the host itself, are refused too. Any other package
// fetching user-supplied URLs can install it in its own dialer.
func DenyControl(deny []netip.Prefix) func(network, address string, c syscall.RawConn) error {
	if len(deny) == 0 {
		return nil
	}
	deny = append([]netip.Prefix(nil), deny...)
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			// The dialer always hands over a literal IP and port; anything
			// else cannot be checked, so it is not connected to.
			return fmt.Errorf("%w: cannot check address %q: %w", ErrDenied, address, err)
		}
		if p, ok := DeniedBy(deny, ap.Addr()); ok {
			return fmt.Errorf("%w: %s is in %s", ErrDenied, ap.Addr(), p)
		}
		// Connecting to 0.0.0.0 or :: reaches this host, whatever the
		// list says about its loopback addresses: never a webhook's target.
		if ap.Addr().Unmap().IsUnspecified() {
			return fmt.Errorf("%w: %s is the unspecified address (this host)", ErrDenied, ap.Addr())
		}
		return nil
	}
}

// DeniedBy returns the first prefix of deny containing ip. The address is
// compared without its zone, and an IPv4 address in both its forms (1.2.3.4
// and ::ffff:1.2.3.4), so that neither spelling of a prefix can be dodged by
// the other spelling of an address.
func DeniedBy(deny []netip.Prefix, ip netip.Addr) (netip.Prefix, bool) {
	plain := ip.WithZone("").Unmap()
	mapped := plain
	if plain.Is4() {
		mapped = netip.AddrFrom16(plain.As16())
	}
	for _, p := range deny {
		if p.Contains(plain) || p.Contains(mapped) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}
