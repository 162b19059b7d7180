package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// mainFriendlyName is the FriendlyName of a main account switchboard creates
// (Twilio uses the owner's e-mail address, which switchboard does not have).
const mainFriendlyName = "switchboard"

// EnsureMainAccount makes sure the store has a main account and returns it.
// accountSID and authToken come from SWITCHBOARD_ACCOUNT_SID and
// SWITCHBOARD_AUTH_TOKEN; either may be empty.
//
// On first start (no main account stored) it creates one with the given SID
// and token, generating whichever is empty, and returns created=true so the
// caller prints the credentials once.
//
// Later starts return the stored account with created=false. The
// configuration then decides as follows:
//   - a SID that differs from the stored one is an error
//     (ErrMainAccountMismatch): the main account's SID is in every URL and
//     every stored row, so it cannot change, and silently serving another
//     account than the configured one would only turn into 401s later;
//   - a token that differs from the stored one replaces it: the environment is
//     where the operator rotates the token, and the new token works from this
//     start on (the old one stops working);
//   - empty values keep what is stored.
//
// Malformed values are refused with ErrInvalidAccountSID or
// ErrInvalidAuthToken before anything is read or written.
func EnsureMainAccount(ctx context.Context, st store.Store, accountSID, authToken string) (acct store.Account, created bool, err error) {
	if accountSID != "" && !sid.Valid(sid.Account, accountSID) {
		return store.Account{}, false, fmt.Errorf("%w: %q", ErrInvalidAccountSID, accountSID)
	}
	if authToken != "" && !sid.ValidToken(authToken) {
		return store.Account{}, false, ErrInvalidAuthToken
	}
	// Two passes at most: if another node creates the main account between
	// our read and our write, the second pass finds it.
	for range 2 {
		main, err := st.MainAccount(ctx)
		switch {
		case err == nil:
			a, err := reconcileMain(ctx, st, main, accountSID, authToken)
			return a, false, err
		case !errors.Is(err, store.ErrNotFound):
			return store.Account{}, false, fmt.Errorf("read main account: %w", err)
		}
		s, tok := accountSID, authToken
		if s == "" {
			s = sid.New(sid.Account)
		}
		if tok == "" {
			tok = sid.NewToken()
		}
		now := time.Now().UTC()
		a, err := st.CreateAccount(ctx, store.Account{
			SID:             s,
			OwnerAccountSID: s,
			FriendlyName:    mainFriendlyName,
			AuthToken:       tok,
			Status:          store.StatusActive,
			DateCreated:     now,
			DateUpdated:     now,
		})
		switch {
		case err == nil:
			return a, true, nil
		case !errors.Is(err, store.ErrConflict):
			return store.Account{}, false, fmt.Errorf("create main account: %w", err)
		}
	}
	return store.Account{}, false, fmt.Errorf("create main account: %w", store.ErrConflict)
}

// reconcileMain applies the configured SID and token to the stored main
// account as EnsureMainAccount documents.
func reconcileMain(ctx context.Context, st store.Store, main store.Account, accountSID, authToken string) (store.Account, error) {
	if accountSID != "" && accountSID != main.SID {
		return store.Account{}, fmt.Errorf("%w: stored %s, configured %s", ErrMainAccountMismatch, main.SID, accountSID)
	}
	if authToken == "" || authToken == main.AuthToken {
		return main, nil
	}
	a, err := st.UpdateAccount(ctx, main.SID, func(a *store.Account) error {
		a.AuthToken = authToken
		a.DateUpdated = time.Now()
		return nil
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("rotate main auth token: %w", err)
	}
	return a, nil
}
