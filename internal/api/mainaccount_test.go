package api_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestEnsureMainAccountFirstStart(t *testing.T) {
	validSID := "AC" + strings.Repeat("0123456789abcdef", 2)
	validToken := strings.Repeat("fedcba9876543210", 2)
	tests := []struct {
		name       string
		sid, token string
		wantSID    string // "" for generated
		wantToken  string // "" for generated
		wantErr    error
	}{
		{"generated", "", "", "", "", nil},
		{"both given", validSID, validToken, validSID, validToken, nil},
		{"upper-case hex", strings.ToUpper(validSID[:2]) + strings.ToUpper(validSID[2:]), "", strings.ToUpper(validSID), "", nil},
		{"SID only", validSID, "", validSID, "", nil},
		{"token only", "", validToken, "", validToken, nil},
		{"SID without AC", "PN" + validSID[2:], "", "", "", api.ErrInvalidAccountSID},
		{"SID too short", validSID[:33], "", "", "", api.ErrInvalidAccountSID},
		{"token not hex", validSID, strings.Repeat("z", 32), "", "", api.ErrInvalidAuthToken},
		{"token too long", "", validToken + "0", "", "", api.ErrInvalidAuthToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			a, created, err := api.EnsureMainAccount(t.Context(), st, tt.sid, tt.token)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || created {
					t.Fatalf("EnsureMainAccount = %v, %v; want %v", created, err, tt.wantErr)
				}
				if _, err := st.MainAccount(t.Context()); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a refused configuration wrote an account: %v", err)
				}
				return
			}
			if err != nil || !created {
				t.Fatalf("EnsureMainAccount = %v, %v", created, err)
			}
			if !sid.Valid(sid.Account, a.SID) || !sid.ValidToken(a.AuthToken) || !a.IsMain() || a.Status != store.StatusActive {
				t.Errorf("main account = %+v", a)
			}
			if tt.wantSID != "" && a.SID != tt.wantSID {
				t.Errorf("SID = %s, want %s", a.SID, tt.wantSID)
			}
			if tt.wantToken != "" && a.AuthToken != tt.wantToken {
				t.Errorf("token = %s, want %s", a.AuthToken, tt.wantToken)
			}
			stored, err := st.MainAccount(t.Context())
			if err != nil || stored.SID != a.SID || stored.AuthToken != a.AuthToken {
				t.Errorf("stored main = %+v, %v", stored, err)
			}
		})
	}
}

func TestEnsureMainAccountLaterStarts(t *testing.T) {
	st := openStore(t)
	first, created, err := api.EnsureMainAccount(t.Context(), st, "", "")
	if err != nil || !created {
		t.Fatal(err)
	}

	// Nothing configured, or the same values: the stored account, not created.
	for _, cfg := range [][2]string{{"", ""}, {first.SID, ""}, {first.SID, first.AuthToken}, {"", first.AuthToken}} {
		a, created, err := api.EnsureMainAccount(t.Context(), st, cfg[0], cfg[1])
		if err != nil || created || a.SID != first.SID || a.AuthToken != first.AuthToken {
			t.Errorf("EnsureMainAccount(%q, %q) = %s %s %v %v", cfg[0], cfg[1], a.SID, a.AuthToken, created, err)
		}
	}

	// Another SID is refused.
	other := sid.New(sid.Account)
	if _, _, err := api.EnsureMainAccount(t.Context(), st, other, ""); !errors.Is(err, api.ErrMainAccountMismatch) {
		t.Errorf("another SID: err = %v, want ErrMainAccountMismatch", err)
	}

	// A new token rotates the stored one.
	newToken := sid.NewToken()
	a, created, err := api.EnsureMainAccount(t.Context(), st, first.SID, newToken)
	if err != nil || created || a.AuthToken != newToken {
		t.Fatalf("rotation = %s %v %v", a.AuthToken, created, err)
	}
	stored, _ := st.MainAccount(t.Context())
	if stored.AuthToken != newToken {
		t.Errorf("stored token = %s, want the rotated %s", stored.AuthToken, newToken)
	}
	h := api.New(api.Config{Store: st})
	path := "/2010-04-01/Accounts/" + first.SID + ".json"
	if rec := serve(h, authed(newReq("GET", path, "", ""), first.SID, first.AuthToken)); rec.Code != 401 {
		t.Errorf("old token after rotation: status %d, want 401", rec.Code)
	}
	if rec := serve(h, authed(newReq("GET", path, "", ""), first.SID, newToken)); rec.Code != 200 {
		t.Errorf("new token after rotation: status %d, want 200", rec.Code)
	}

	// Subaccounts do not count as main accounts.
	if _, err := st.CreateAccount(t.Context(), store.Account{
		SID: sid.New(sid.Account), OwnerAccountSID: first.SID, FriendlyName: "sub",
		AuthToken: sid.NewToken(), Status: store.StatusActive, DateCreated: stored.DateCreated,
	}); err != nil {
		t.Fatal(err)
	}
	if a, _, err := api.EnsureMainAccount(t.Context(), st, "", ""); err != nil || a.SID != first.SID {
		t.Errorf("with a subaccount: %s %v", a.SID, err)
	}
}
