package store

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// TestLookupCacheSeesEveryWrite: a lookup after a write to accounts or numbers
// returns sees that write, though the row was cached before it.
func TestLookupCacheSeesEveryWrite(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	ctx := t.Context()
	n, err := s.CreateNumber(ctx, IncomingPhoneNumber{SID: "PN00000000000000000000000000000001", AccountSID: a.SID,
		PhoneNumber: "+15551230001", VoiceURL: "http://app/one", VoiceMethod: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	find := func() (IncomingPhoneNumber, error) { return s.FindNumber(ctx, "15551230001") }
	for range 2 { // the second from the cache
		got, err := find()
		if err != nil || got.VoiceURL != "http://app/one" {
			t.Fatalf("FindNumber = %q, %v; want http://app/one", got.VoiceURL, err)
		}
	}
	if _, ok := s.cache.number("+15551230001"); !ok {
		t.Fatal("the number found is not cached")
	}

	if _, err := s.UpdateNumber(ctx, a.SID, n.SID, func(n *IncomingPhoneNumber) error {
		n.VoiceURL = "http://app/two"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := find(); err != nil || got.VoiceURL != "http://app/two" {
		t.Fatalf("FindNumber after the update = %q, %v; want http://app/two", got.VoiceURL, err)
	}

	if _, err := s.Account(ctx, a.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateAccount(ctx, a.SID, func(a *Account) error {
		a.Status = StatusSuspended
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Account(ctx, a.SID); err != nil || got.Status != StatusSuspended {
		t.Fatalf("Account after suspending = %q, %v; want suspended", got.Status, err)
	}

	if err := s.DeleteNumber(ctx, a.SID, n.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := find(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FindNumber after the delete: err = %v, want ErrNotFound", err)
	}
}

// TestLookupCacheExpires: a change made to the file by another program (here
// a statement on the store's own connection, past the store's methods) is
// seen once the entry is lookupTTL old.
func TestLookupCacheExpires(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	ctx := t.Context()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s.cache = newLookupCache(clk.Now)
	if _, err := s.Account(ctx, a.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, "UPDATE accounts SET friendly_name = 'renamed' WHERE sid = $1", a.SID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(lookupTTL - time.Millisecond)
	if got, _ := s.Account(ctx, a.SID); got.FriendlyName != a.FriendlyName {
		t.Fatalf("FriendlyName = %q before the entry expired, want the cached %q", got.FriendlyName, a.FriendlyName)
	}
	clk.Advance(time.Millisecond)
	if got, _ := s.Account(ctx, a.SID); got.FriendlyName != "renamed" {
		t.Fatalf("FriendlyName = %q once the entry expired, want renamed", got.FriendlyName)
	}
}

// TestLookupCacheGenerations: a row read before an invalidation is not kept,
// and a full cache starts again.
func TestLookupCacheGenerations(t *testing.T) {
	c := newLookupCache(time.Now)
	gen := c.generation()
	c.invalidate() // a write committed while the row was read
	c.putAccount(Account{SID: "AC1"}, gen)
	if _, ok := c.account("AC1"); ok {
		t.Fatal("a row read before an invalidation was kept")
	}
	c.putAccount(Account{SID: "AC1"}, c.generation())
	if _, ok := c.account("AC1"); !ok {
		t.Fatal("a row read since the last invalidation was not kept")
	}
	c.invalidate()
	if _, ok := c.account("AC1"); ok {
		t.Fatal("a row was used after an invalidation")
	}
	for i := range lookupMax + 1 {
		c.putNumber(IncomingPhoneNumber{PhoneNumber: string(rune('a'+i%26)) + time.Duration(i).String()}, c.generation())
	}
	if len(c.numbers) > lookupMax {
		t.Fatalf("%d numbers cached, at most %d", len(c.numbers), lookupMax)
	}
	var nilCache *lookupCache
	nilCache.putAccount(Account{SID: "AC1"}, 0)
	if _, ok := nilCache.account("AC1"); ok {
		t.Fatal("a nil cache returned a row")
	}
}
