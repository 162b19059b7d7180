// Package storetest is the conformance suite every store.Store must pass. It
// uses the Store interface only, so the same tests run against SQLite and
// PostgreSQL:
//
//	func TestSQLite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... a fresh, empty store ... })
//	}
//
// open must return an empty store of its own for each call (the suite runs
// subtests in parallel) and arrange for it to be closed with t.Cleanup.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// t0 is the base time of every row the suite writes; it has nanoseconds so
// that the store's truncation to microseconds is exercised.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

// Run runs the conformance suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"AccountCreateAndRead", testAccountCreateAndRead},
		{"AccountList", testAccountList},
		{"AccountUpdate", testAccountUpdate},
		{"AccountCloseReleasesNumbers", testAccountCloseReleasesNumbers},
		{"NumberCreateAndRead", testNumberCreateAndRead},
		{"NumberUniqueAcrossAccounts", testNumberUniqueAcrossAccounts},
		{"NumberCanonicalForm", testNumberCanonicalForm},
		{"NumberUpdate", testNumberUpdate},
		{"NumberDelete", testNumberDelete},
		{"NumberFilters", testNumberFilters},
		{"Paging", testPaging},
		{"PagingTiesAndDeletes", testPagingTiesAndDeletes},
		{"InvalidArguments", testInvalidArguments},
		{"ConcurrentWrites", testConcurrentWrites},
		{"CloseRacesCreate", testCloseRacesCreate},
		{"CallLifecycle", testCallLifecycle},
		{"CallFilters", testCallFilters},
		{"CallPagingNewestFirst", testCallPagingNewestFirst},
		{"CallFinalizeOpen", testCallFinalizeOpen},
		{"CallFinalizeOwnNode", testCallFinalizeOwnNode},
		{"CallFinalizeAtHeartbeat", testCallFinalizeAtHeartbeat},
		{"AppendEvents", testAppendEvents},
		{"Notifications", testNotifications},
		{"Recordings", testRecordings},
		{"SaveCall", testSaveCall},
		{"SaveCallRace", testSaveCallRace},
		{"EventLog", testEventLog},
		{"DeleteCall", testDeleteCall},
		{"ResourceEvents", testResourceEvents},
		{"Outbox", testOutbox},
		{"OutboxConcurrentClaims", testOutboxConcurrentClaims},
		{"ConferenceRoundTrip", testConferenceRoundTrip},
		{"ConferenceSaveAtomic", testConferenceSaveAtomic},
		{"ConferenceCompletedIsFinal", testConferenceCompletedIsFinal},
		{"ConferenceLiveName", testConferenceLiveName},
		{"ConferenceList", testConferenceList},
		{"ConferenceParticipantLookups", testParticipantLookups},
		{"ConferenceInsightsCounts", testConferenceInsightsCounts},
		{"ConferenceEvents", testConferenceEvents},
		{"ConferenceFinalize", testConferenceFinalize},
		{"ConferenceFinalizeAtHeartbeat", testConferenceFinalizeAtHeartbeat},
		{"Queues", testQueues},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// mainAccount creates a main account created at t0.
func mainAccount(t *testing.T, st store.Store) store.Account {
	t.Helper()
	s := sid.New(sid.Account)
	a, err := st.CreateAccount(ctx(t), store.Account{
		SID: s, OwnerAccountSID: s, FriendlyName: "main", AuthToken: sid.NewToken(),
		Status: store.StatusActive, DateCreated: t0, DateUpdated: t0,
	})
	if err != nil {
		t.Fatalf("CreateAccount(main): %v", err)
	}
	return a
}

func subAccount(t *testing.T, st store.Store, owner string, name string, at time.Time) store.Account {
	t.Helper()
	a, err := st.CreateAccount(ctx(t), store.Account{
		SID: sid.New(sid.Account), OwnerAccountSID: owner, FriendlyName: name, AuthToken: sid.NewToken(),
		Status: store.StatusActive, DateCreated: at, DateUpdated: at,
	})
	if err != nil {
		t.Fatalf("CreateAccount(%s): %v", name, err)
	}
	return a
}

func newNumber(account, phone string, at time.Time) store.IncomingPhoneNumber {
	return store.IncomingPhoneNumber{
		SID: sid.New(sid.IncomingPhoneNumber), AccountSID: account, PhoneNumber: phone,
		FriendlyName: phone, APIVersion: "2010-04-01",
		VoiceURL: "https://example.com/voice", VoiceMethod: "POST", VoiceFallbackMethod: "POST",
		StatusCallbackMethod: "POST", SMSMethod: "POST", SMSFallbackMethod: "POST",
		DateCreated: at, DateUpdated: at,
	}
}

func createNumber(t *testing.T, st store.Store, account, phone string, at time.Time) store.IncomingPhoneNumber {
	t.Helper()
	n, err := st.CreateNumber(ctx(t), newNumber(account, phone, at))
	if err != nil {
		t.Fatalf("CreateNumber(%s): %v", phone, err)
	}
	return n
}

func phones(ns []store.IncomingPhoneNumber) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.PhoneNumber
	}
	return out
}

func testAccountCreateAndRead(t *testing.T, st store.Store) {
	if _, err := st.MainAccount(ctx(t)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("MainAccount on an empty store: err = %v, want ErrNotFound", err)
	}
	m := mainAccount(t, st)
	if !m.DateCreated.Equal(t0.Truncate(time.Microsecond)) || m.DateCreated.Location() != time.UTC {
		t.Errorf("DateCreated = %v, want %v in UTC truncated to µs", m.DateCreated, t0)
	}
	got, err := st.Account(ctx(t), m.SID)
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("Account returned a different row (-created +read):\n%s", diff)
	}
	if !got.IsMain() {
		t.Error("IsMain() = false for a self-owned account")
	}
	sub := subAccount(t, st, m.SID, "sub", t0.Add(time.Second))
	if sub.IsMain() {
		t.Error("IsMain() = true for a subaccount")
	}
	mm, err := st.MainAccount(ctx(t))
	if err != nil || mm.SID != m.SID {
		t.Fatalf("MainAccount = %v, %v; want %s", mm.SID, err, m.SID)
	}
	if _, err := st.CreateAccount(ctx(t), m); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateAccount with a taken SID: err = %v, want ErrConflict", err)
	}
	if _, err := st.Account(ctx(t), sid.New(sid.Account)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Account(unknown): err = %v, want ErrNotFound", err)
	}
	// A time in another zone comes back as the same instant in UTC.
	zone := time.FixedZone("JST", 9*3600)
	jst := subAccount(t, st, m.SID, "jst", t0.In(zone).Add(2*time.Second))
	back, err := st.Account(ctx(t), jst.SID)
	if err != nil {
		t.Fatal(err)
	}
	if !back.DateCreated.Equal(t0.Add(2*time.Second).Truncate(time.Microsecond)) || back.DateCreated.Location() != time.UTC {
		t.Errorf("DateCreated = %v, want %v UTC", back.DateCreated, t0.Add(2*time.Second))
	}
}

func testAccountList(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	a := subAccount(t, st, m.SID, "alpha", t0.Add(1*time.Second))
	b := subAccount(t, st, m.SID, "beta", t0.Add(2*time.Second))
	other := mainAccount(t, st) // another tree: never visible from m
	subAccount(t, st, other.SID, "alpha", t0.Add(3*time.Second))
	if _, err := st.UpdateAccount(ctx(t), b.SID, func(x *store.Account) error {
		x.Status = store.StatusSuspended
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	sids := func(as []store.Account) []string {
		out := make([]string, len(as))
		for i, x := range as {
			out[i] = x.SID
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AccountFilter
		want []string
	}{
		{"main sees itself and its subaccounts", store.AccountFilter{VisibleTo: m.SID}, []string{m.SID, a.SID, b.SID}},
		{"subaccount sees itself", store.AccountFilter{VisibleTo: a.SID}, []string{a.SID}},
		{"friendly name", store.AccountFilter{VisibleTo: m.SID, FriendlyName: "alpha"}, []string{a.SID}},
		{"status", store.AccountFilter{VisibleTo: m.SID, Status: store.StatusSuspended}, []string{b.SID}},
		{"no match", store.AccountFilter{VisibleTo: m.SID, FriendlyName: "gamma"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := st.ListAccounts(ctx(t), tt.f, store.Page{Size: 50})
			if err != nil {
				t.Fatal(err)
			}
			if more {
				t.Error("more = true on a short list")
			}
			if diff := cmp.Diff(tt.want, sids(got)); diff != "" {
				t.Errorf("ListAccounts (-want +got):\n%s", diff)
			}
		})
	}
}

func testAccountUpdate(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	sub := subAccount(t, st, m.SID, "before", t0)
	later := t0.Add(time.Hour)
	got, err := st.UpdateAccount(ctx(t), sub.SID, func(a *store.Account) error {
		a.FriendlyName = "after"
		a.Status = store.StatusSuspended
		a.DateUpdated = later
		a.SID = "ACignored"           // immutable
		a.OwnerAccountSID = "ignored" // immutable
		a.DateCreated = later         // immutable
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	want := sub
	want.FriendlyName, want.Status, want.DateUpdated = "after", store.StatusSuspended, later.Truncate(time.Microsecond)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateAccount result (-want +got):\n%s", diff)
	}
	read, err := st.Account(ctx(t), sub.SID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("account after update (-want +got):\n%s", diff)
	}

	// An error from the update function writes nothing.
	boom := errors.New("boom")
	if _, err := st.UpdateAccount(ctx(t), sub.SID, func(a *store.Account) error {
		a.FriendlyName = "partial"
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateAccount returning boom: err = %v", err)
	}
	if read, _ := st.Account(ctx(t), sub.SID); read.FriendlyName != "after" {
		t.Errorf("FriendlyName = %q after an aborted update, want %q", read.FriendlyName, "after")
	}

	// Closed is final.
	if _, err := st.UpdateAccount(ctx(t), sub.SID, func(a *store.Account) error {
		a.Status = store.StatusClosed
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateAccount(ctx(t), sub.SID, func(a *store.Account) error {
		a.Status = store.StatusActive
		return nil
	}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("reopening a closed account: err = %v, want ErrClosed", err)
	}
	if read, _ := st.Account(ctx(t), sub.SID); read.Status != store.StatusClosed {
		t.Errorf("status = %q, want closed", read.Status)
	}
	// Renaming a closed account is still allowed.
	if _, err := st.UpdateAccount(ctx(t), sub.SID, func(a *store.Account) error {
		a.FriendlyName = "gone"
		return nil
	}); err != nil {
		t.Errorf("renaming a closed account: %v", err)
	}
	if _, err := st.UpdateAccount(ctx(t), sid.New(sid.Account), func(*store.Account) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateAccount(unknown): err = %v, want ErrNotFound", err)
	}
}

func testAccountCloseReleasesNumbers(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	sub := subAccount(t, st, m.SID, "sub", t0)
	n := createNumber(t, st, sub.SID, "+15550001111", t0)
	keep := createNumber(t, st, m.SID, "+15550002222", t0)

	// Suspending keeps the numbers.
	if _, err := st.UpdateAccount(ctx(t), sub.SID, func(a *store.Account) error {
		a.Status = store.StatusSuspended
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Number(ctx(t), sub.SID, n.SID); err != nil {
		t.Fatalf("number of a suspended account: %v", err)
	}
	if _, err := st.UpdateAccount(ctx(t), sub.SID, func(a *store.Account) error {
		a.Status = store.StatusClosed
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Number(ctx(t), sub.SID, n.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("number of a closed account: err = %v, want ErrNotFound", err)
	}
	if _, err := st.FindNumber(ctx(t), "+15550001111"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindNumber of a released number: err = %v, want ErrNotFound", err)
	}
	if _, err := st.Number(ctx(t), m.SID, keep.SID); err != nil {
		t.Errorf("the main account's number went too: %v", err)
	}
	// The released number can be taken again, but not by the closed account.
	if _, err := st.CreateNumber(ctx(t), newNumber(sub.SID, "+15550003333", t0)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("CreateNumber in a closed account: err = %v, want ErrClosed", err)
	}
	createNumber(t, st, m.SID, "+15550001111", t0)
}

func testNumberCreateAndRead(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	in := newNumber(m.SID, "+14155550100", t0)
	in.VoiceFallbackURL = "https://example.com/fallback"
	in.VoiceCallerIDLookup = true
	in.StatusCallback = "https://example.com/status"
	in.SMSURL = "https://example.com/sms"
	n, err := st.CreateNumber(ctx(t), in)
	if err != nil {
		t.Fatalf("CreateNumber: %v", err)
	}
	want := in
	want.DateCreated, want.DateUpdated = t0.Truncate(time.Microsecond), t0.Truncate(time.Microsecond)
	if diff := cmp.Diff(want, n); diff != "" {
		t.Errorf("CreateNumber result (-want +got):\n%s", diff)
	}
	got, err := st.Number(ctx(t), m.SID, n.SID)
	if err != nil {
		t.Fatalf("Number: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Number (-want +got):\n%s", diff)
	}
	found, err := st.FindNumber(ctx(t), "+14155550100")
	if err != nil {
		t.Fatalf("FindNumber: %v", err)
	}
	if diff := cmp.Diff(want, found); diff != "" {
		t.Errorf("FindNumber (-want +got):\n%s", diff)
	}
	sipName := createNumber(t, st, m.SID, "support", t0)
	if f, err := st.FindNumber(ctx(t), "support"); err != nil || f.SID != sipName.SID {
		t.Errorf("FindNumber(support) = %v, %v", f.SID, err)
	}
	// Routing is exact once canonical: no prefix, no case folding.
	for _, phone := range []string{"+1415555010", "+141555501000", "Support", ""} {
		if _, err := st.FindNumber(ctx(t), phone); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindNumber(%q): err = %v, want ErrNotFound", phone, err)
		}
	}
	other := mainAccount(t, st)
	if _, err := st.Number(ctx(t), other.SID, n.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Number through another account: err = %v, want ErrNotFound", err)
	}
	if _, err := st.CreateNumber(ctx(t), newNumber(sid.New(sid.Account), "+14155550199", t0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateNumber for a missing account: err = %v, want ErrNotFound", err)
	}
}

func testNumberUniqueAcrossAccounts(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	sub := subAccount(t, st, m.SID, "sub", t0)
	createNumber(t, st, m.SID, "+14155550100", t0)
	if _, err := st.CreateNumber(ctx(t), newNumber(sub.SID, "+14155550100", t0)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same number in another account: err = %v, want ErrConflict", err)
	}
	other := mainAccount(t, st)
	if _, err := st.CreateNumber(ctx(t), newNumber(other.SID, "+14155550100", t0)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same number in another tenant: err = %v, want ErrConflict", err)
	}
	got, _, err := st.ListNumbers(ctx(t), store.NumberFilter{AccountSID: sub.SID}, store.Page{Size: 10})
	if err != nil || len(got) != 0 {
		t.Errorf("subaccount numbers = %v, %v; want none (no partial write)", phones(got), err)
	}
}

// testNumberCanonicalForm: the spellings of one telephone number are one
// number, stored once, found by any of them, and not to be taken by another
// account in another spelling (a subaccount registering "15551234567" beside
// its parent's "+15551234567" would otherwise take its calls).
func testNumberCanonicalForm(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	sub := subAccount(t, st, m.SID, "sub", t0)
	owned := createNumber(t, st, m.SID, "+15551234567", t0)
	for _, variant := range []string{"15551234567", "+1 555-123-4567", "1-555-123-4567", "+1 (555) 123.4567", " +15551234567 "} {
		if _, err := st.CreateNumber(ctx(t), newNumber(sub.SID, variant, t0)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateNumber(%q) beside +15551234567: err = %v, want ErrConflict", variant, err)
		}
		found, err := st.FindNumber(ctx(t), variant)
		if err != nil || found.SID != owned.SID {
			t.Errorf("FindNumber(%q) = %s, %v; want %s", variant, found.SID, err, owned.SID)
		}
	}
	if got, _, err := st.ListNumbers(ctx(t), store.NumberFilter{AccountSID: sub.SID}, store.Page{Size: 10}); err != nil || len(got) != 0 {
		t.Errorf("subaccount numbers = %v, %v; want none", phones(got), err)
	}

	// A variant is stored canonical.
	n, err := st.CreateNumber(ctx(t), newNumber(sub.SID, "1 (415) 555-0100", t0))
	if err != nil || n.PhoneNumber != "+14155550100" {
		t.Fatalf("CreateNumber(1 (415) 555-0100) = %q, %v; want +14155550100", n.PhoneNumber, err)
	}
	if read, err := st.Number(ctx(t), sub.SID, n.SID); err != nil || read.PhoneNumber != "+14155550100" {
		t.Errorf("stored as %q, %v; want +14155550100", read.PhoneNumber, err)
	}

	// Names and short digit strings are names: matched as written.
	ext := createNumber(t, st, m.SID, "1001", t0)
	if f, err := st.FindNumber(ctx(t), "1001"); err != nil || f.SID != ext.SID {
		t.Errorf("FindNumber(1001) = %s, %v", f.SID, err)
	}
	for _, phone := range []string{"+1001", "10-01"} {
		if _, err := st.FindNumber(ctx(t), phone); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindNumber(%q): err = %v, want ErrNotFound", phone, err)
		}
	}

	// Renumbering to a variant of a taken number conflicts; to a free
	// variant stores it canonical.
	if _, err := st.UpdateNumber(ctx(t), sub.SID, n.SID, func(x *store.IncomingPhoneNumber) error {
		x.PhoneNumber = "1.555.123.4567"
		return nil
	}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("update to a variant of a taken number: err = %v, want ErrConflict", err)
	}
	got, err := st.UpdateNumber(ctx(t), sub.SID, n.SID, func(x *store.IncomingPhoneNumber) error {
		x.PhoneNumber = "+1 415 555 0199"
		return nil
	})
	if err != nil || got.PhoneNumber != "+14155550199" {
		t.Errorf("UpdateNumber(+1 415 555 0199) = %q, %v; want +14155550199", got.PhoneNumber, err)
	}
	if f, err := st.FindNumber(ctx(t), "14155550199"); err != nil || f.SID != n.SID {
		t.Errorf("FindNumber(14155550199) = %s, %v; want %s", f.SID, err, n.SID)
	}
}

func testNumberUpdate(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	n := createNumber(t, st, m.SID, "+14155550100", t0)
	createNumber(t, st, m.SID, "+14155550101", t0)
	later := t0.Add(time.Minute)
	got, err := st.UpdateNumber(ctx(t), m.SID, n.SID, func(x *store.IncomingPhoneNumber) error {
		x.FriendlyName = "front desk"
		x.VoiceURL = "https://example.com/new"
		x.VoiceMethod = "GET"
		x.VoiceCallerIDLookup = true
		x.StatusCallback = "https://example.com/cb"
		x.DateUpdated = later
		x.AccountSID = "ACignored"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateNumber: %v", err)
	}
	want := n
	want.FriendlyName, want.VoiceURL, want.VoiceMethod = "front desk", "https://example.com/new", "GET"
	want.VoiceCallerIDLookup, want.StatusCallback = true, "https://example.com/cb"
	want.DateUpdated = later.Truncate(time.Microsecond)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateNumber result (-want +got):\n%s", diff)
	}
	read, err := st.Number(ctx(t), m.SID, n.SID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("number after update (-want +got):\n%s", diff)
	}
	// Taking another number's phone number conflicts and writes nothing.
	if _, err := st.UpdateNumber(ctx(t), m.SID, n.SID, func(x *store.IncomingPhoneNumber) error {
		x.PhoneNumber = "+14155550101"
		x.FriendlyName = "partial"
		return nil
	}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("update to a taken number: err = %v, want ErrConflict", err)
	}
	if read, _ := st.Number(ctx(t), m.SID, n.SID); read.FriendlyName != "front desk" || read.PhoneNumber != "+14155550100" {
		t.Errorf("number after a failed update = %q %q", read.PhoneNumber, read.FriendlyName)
	}
	// Renumbering moves the route.
	if _, err := st.UpdateNumber(ctx(t), m.SID, n.SID, func(x *store.IncomingPhoneNumber) error {
		x.PhoneNumber = "sales"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if f, err := st.FindNumber(ctx(t), "sales"); err != nil || f.SID != n.SID {
		t.Errorf("FindNumber(sales) = %v, %v", f.SID, err)
	}
	if _, err := st.FindNumber(ctx(t), "+14155550100"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old number still routes: %v", err)
	}
	other := mainAccount(t, st)
	if _, err := st.UpdateNumber(ctx(t), other.SID, n.SID, func(*store.IncomingPhoneNumber) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateNumber through another account: err = %v, want ErrNotFound", err)
	}
}

func testNumberDelete(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	other := mainAccount(t, st)
	n := createNumber(t, st, m.SID, "+14155550100", t0)
	if err := st.DeleteNumber(ctx(t), other.SID, n.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteNumber through another account: err = %v, want ErrNotFound", err)
	}
	if err := st.DeleteNumber(ctx(t), m.SID, n.SID); err != nil {
		t.Fatalf("DeleteNumber: %v", err)
	}
	if _, err := st.Number(ctx(t), m.SID, n.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Number after delete: err = %v, want ErrNotFound", err)
	}
	if err := st.DeleteNumber(ctx(t), m.SID, n.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteNumber: err = %v, want ErrNotFound", err)
	}
}

func testNumberFilters(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	other := mainAccount(t, st)
	for i, p := range []string{"+14155550100", "+14155550199", "+442071234567", "support", "sup_port", "Sales", "pop"} {
		n := newNumber(m.SID, p, t0.Add(time.Duration(i)*time.Second))
		if p == "support" || p == "Sales" {
			n.FriendlyName = "desk"
		}
		if _, err := st.CreateNumber(ctx(t), n); err != nil {
			t.Fatal(err)
		}
	}
	createNumber(t, st, other.SID, "+14155550142", t0)

	tests := []struct {
		name string
		f    store.NumberFilter
		want []string
	}{
		{"all of the account", store.NumberFilter{}, []string{"+14155550100", "+14155550199", "+442071234567", "support", "sup_port", "Sales", "pop"}},
		{"exact", store.NumberFilter{PhoneNumber: "+14155550100"}, []string{"+14155550100"}},
		{"partial", store.NumberFilter{PhoneNumber: "555"}, []string{"+14155550100", "+14155550199"}},
		{"wildcard digit", store.NumberFilter{PhoneNumber: "+1415555019*"}, []string{"+14155550199"}},
		{"wildcards", store.NumberFilter{PhoneNumber: "+44**"}, []string{"+442071234567"}},
		{"underscore is literal", store.NumberFilter{PhoneNumber: "p_p"}, []string{"sup_port"}},
		{"percent is literal", store.NumberFilter{PhoneNumber: "%"}, []string{}},
		{"backslash is literal", store.NumberFilter{PhoneNumber: `\`}, []string{}},
		{"ignores case", store.NumberFilter{PhoneNumber: "SALES"}, []string{"Sales"}},
		{"friendly name", store.NumberFilter{FriendlyName: "desk"}, []string{"support", "Sales"}},
		{"both", store.NumberFilter{FriendlyName: "desk", PhoneNumber: "port"}, []string{"support"}},
		{"none", store.NumberFilter{PhoneNumber: "+1999"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.AccountSID = m.SID
			got, _, err := st.ListNumbers(ctx(t), tt.f, store.Page{Size: 50})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, phones(got)); diff != "" {
				t.Errorf("ListNumbers (-want +got):\n%s", diff)
			}
		})
	}
}

// collect pages through all numbers of account with pages of size, forwards
// by After cursors, and returns them with the number of pages.
func collect(t *testing.T, st store.Store, account string, size int) ([]string, int) {
	t.Helper()
	var all []string
	p := store.Page{Size: size}
	for pages := 1; pages <= 1000; pages++ {
		got, more, err := st.ListNumbers(ctx(t), store.NumberFilter{AccountSID: account}, p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, phones(got)...)
		if !more {
			return all, pages
		}
		last := got[len(got)-1]
		p = store.Page{Size: size, After: &store.Cursor{DateCreated: last.DateCreated, SID: last.SID}}
	}
	t.Fatal("paging did not end")
	return nil, 0
}

func testPaging(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	var want []string
	for i := range 120 {
		p := fmt.Sprintf("+1415555%04d", i)
		want = append(want, p)
		createNumber(t, st, m.SID, p, t0.Add(time.Duration(i)*time.Millisecond))
	}
	got, pages := collect(t, st, m.SID, 50)
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged numbers (-want +got):\n%s", diff)
	}
	// An exact multiple of the page size ends without an empty page.
	if _, pages := collect(t, st, m.SID, 40); pages != 3 {
		t.Errorf("pages of 40 = %d, want 3", pages)
	}
	// Offsets.
	f := store.NumberFilter{AccountSID: m.SID}
	page2, more, err := st.ListNumbers(ctx(t), f, store.Page{Size: 50, Offset: 100})
	if err != nil {
		t.Fatal(err)
	}
	if more || len(page2) != 20 || page2[0].PhoneNumber != want[100] {
		t.Errorf("offset 100: %d rows from %v, more=%v", len(page2), phones(page2[:1]), more)
	}
	// Backwards from the first row of the last page.
	first := page2[0]
	prev, more, err := st.ListNumbers(ctx(t), f, store.Page{Size: 50, Before: &store.Cursor{DateCreated: first.DateCreated, SID: first.SID}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[50:100], phones(prev)); diff != "" {
		t.Errorf("page before (-want +got):\n%s", diff)
	}
	if !more {
		t.Error("more = false going backwards from row 50")
	}
	head, more, err := st.ListNumbers(ctx(t), f, store.Page{Size: 50, Before: &store.Cursor{DateCreated: prev[0].DateCreated, SID: prev[0].SID}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[:50], phones(head)); diff != "" || more {
		t.Errorf("first page going backwards (more=%v) (-want +got):\n%s", more, diff)
	}
}

func testPagingTiesAndDeletes(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	// Every row has the same date_created: the SID breaks the tie.
	for i := range 25 {
		createNumber(t, st, m.SID, fmt.Sprintf("+1212555%04d", i), t0)
	}
	all, pages := collect(t, st, m.SID, 10)
	if len(all) != 25 || pages != 3 {
		t.Fatalf("collected %d numbers in %d pages, want 25 in 3", len(all), pages)
	}
	seen := map[string]bool{}
	for _, p := range all {
		if seen[p] {
			t.Fatalf("%s listed twice", p)
		}
		seen[p] = true
	}
	// A cursor stays valid after its row is deleted.
	f := store.NumberFilter{AccountSID: m.SID}
	first, _, err := st.ListNumbers(ctx(t), f, store.Page{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	last := first[len(first)-1]
	if err := st.DeleteNumber(ctx(t), m.SID, last.SID); err != nil {
		t.Fatal(err)
	}
	next, _, err := st.ListNumbers(ctx(t), f, store.Page{Size: 10, After: &store.Cursor{DateCreated: last.DateCreated, SID: last.SID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 10 {
		t.Fatalf("page after a deleted cursor row has %d rows, want 10", len(next))
	}
	for _, n := range next {
		for _, o := range first {
			if n.SID == o.SID {
				t.Fatalf("%s on both pages", n.PhoneNumber)
			}
		}
	}
}

func testInvalidArguments(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	c := &store.Cursor{DateCreated: t0, SID: "PN"}
	tests := []struct {
		name string
		call func() error
	}{
		{"zero page size", func() error {
			_, _, err := st.ListNumbers(ctx(t), store.NumberFilter{AccountSID: m.SID}, store.Page{})
			return err
		}},
		{"both cursors", func() error {
			_, _, err := st.ListNumbers(ctx(t), store.NumberFilter{AccountSID: m.SID}, store.Page{Size: 1, After: c, Before: c})
			return err
		}},
		{"negative offset", func() error {
			_, _, err := st.ListAccounts(ctx(t), store.AccountFilter{VisibleTo: m.SID}, store.Page{Size: 1, Offset: -1})
			return err
		}},
		{"numbers without account", func() error {
			_, _, err := st.ListNumbers(ctx(t), store.NumberFilter{}, store.Page{Size: 1})
			return err
		}},
		{"accounts without VisibleTo", func() error {
			_, _, err := st.ListAccounts(ctx(t), store.AccountFilter{}, store.Page{Size: 1})
			return err
		}},
		{"number without phone", func() error {
			_, err := st.CreateNumber(ctx(t), newNumber(m.SID, "", t0))
			return err
		}},
		{"account without SID", func() error {
			_, err := st.CreateAccount(ctx(t), store.Account{})
			return err
		}},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func testConcurrentWrites(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	const workers = 8
	var wg sync.WaitGroup
	errs := make([]error, workers)
	// Everyone races for the same number: exactly one wins.
	for i := range workers {
		wg.Go(func() {
			_, errs[i] = st.CreateNumber(ctx(t), newNumber(m.SID, "+15550000000", t0))
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racing CreateNumber: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d creates of the same number succeeded, want 1", wins)
	}
	// Distinct numbers, updates and reads at once: all succeed.
	for i := range workers {
		wg.Go(func() {
			for j := range 10 {
				n, err := st.CreateNumber(ctx(t), newNumber(m.SID, fmt.Sprintf("+1666%03d%04d", i, j), t0))
				if err != nil {
					t.Errorf("CreateNumber: %v", err)
					return
				}
				if _, err := st.UpdateNumber(ctx(t), m.SID, n.SID, func(x *store.IncomingPhoneNumber) error {
					x.FriendlyName = "updated"
					return nil
				}); err != nil {
					t.Errorf("UpdateNumber: %v", err)
					return
				}
				if _, err := st.FindNumber(ctx(t), n.PhoneNumber); err != nil {
					t.Errorf("FindNumber: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, _, err := st.ListNumbers(ctx(t), store.NumberFilter{AccountSID: m.SID, FriendlyName: "updated"}, store.Page{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != workers*10 {
		t.Errorf("%d updated numbers, want %d", len(got), workers*10)
	}
}

// testCloseRacesCreate closes an account while numbers are being created in
// it: whichever order the store picks, a closed account ends with no numbers.
func testCloseRacesCreate(t *testing.T, st store.Store) {
	m := mainAccount(t, st)
	for round := range 5 {
		sub := subAccount(t, st, m.SID, "sub", t0)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for j := range 5 {
					_, err := st.CreateNumber(ctx(t), newNumber(sub.SID, fmt.Sprintf("+1777%d%d%04d", round, w, j), t0))
					if err != nil && !errors.Is(err, store.ErrClosed) {
						t.Errorf("CreateNumber: %v", err)
					}
				}
			})
		}
		wg.Go(func() {
			if _, err := st.UpdateAccount(ctx(t), sub.SID, func(a *store.Account) error {
				a.Status = store.StatusClosed
				return nil
			}); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		wg.Wait()
		left, _, err := st.ListNumbers(ctx(t), store.NumberFilter{AccountSID: sub.SID}, store.Page{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Fatalf("round %d: a closed account has %d numbers", round, len(left))
		}
	}
}
