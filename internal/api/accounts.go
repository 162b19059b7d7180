package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// accountJSON is Twilio's Account resource (api.v2010.account in the OpenAPI
// spec), every field included.
type accountJSON struct {
	AuthToken       string            `json:"auth_token"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	FriendlyName    string            `json:"friendly_name"`
	OwnerAccountSID string            `json:"owner_account_sid"`
	SID             string            `json:"sid"`
	Status          string            `json:"status"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
	Type            string            `json:"type"`
	URI             string            `json:"uri"`
}

// accountSubresources are the subresource_uris of an account, as Twilio
// lists them; most are served in later issues.
var accountSubresources = map[string]string{
	"addresses":               "Addresses.json",
	"applications":            "Applications.json",
	"authorized_connect_apps": "AuthorizedConnectApps.json",
	"available_phone_numbers": "AvailablePhoneNumbers.json",
	"balance":                 "Balance.json",
	"calls":                   "Calls.json",
	"conferences":             "Conferences.json",
	"connect_apps":            "ConnectApps.json",
	"incoming_phone_numbers":  "IncomingPhoneNumbers.json",
	"keys":                    "Keys.json",
	"messages":                "Messages.json",
	"notifications":           "Notifications.json",
	"outgoing_caller_ids":     "OutgoingCallerIds.json",
	"queues":                  "Queues.json",
	"recordings":              "Recordings.json",
	"short_codes":             "SMS/ShortCodes.json",
	"signing_keys":            "SigningKeys.json",
	"sip":                     "SIP.json",
	"transcriptions":          "Transcriptions.json",
	"usage":                   "Usage.json",
}

func accountURI(accountSID string) string { return prefix + "/Accounts/" + accountSID + ".json" }

func toAccountJSON(a store.Account) accountJSON {
	base := prefix + "/Accounts/" + a.SID + "/"
	subs := make(map[string]string, len(accountSubresources))
	for k, v := range accountSubresources {
		subs[k] = base + v
	}
	return accountJSON{
		AuthToken:       a.AuthToken,
		DateCreated:     formatTime(a.DateCreated),
		DateUpdated:     formatTime(a.DateUpdated),
		FriendlyName:    a.FriendlyName,
		OwnerAccountSID: a.OwnerAccountSID,
		SID:             a.SID,
		Status:          string(a.Status),
		SubresourceURIs: subs,
		Type:            "Full",
		URI:             accountURI(a.SID),
	}
}

// listAccounts serves GET /Accounts.json: the authenticated account and, for
// a main account, its subaccounts; filters FriendlyName and Status.
func (s *server) listAccounts(r *request) error {
	lr, err := parseList(r, sid.Account, "FriendlyName", "Status")
	if err != nil {
		return err
	}
	f := store.AccountFilter{VisibleTo: r.auth.SID}
	for _, kv := range lr.filters {
		switch kv[0] {
		case "FriendlyName":
			f.FriendlyName = kv[1]
		case "Status":
			f.Status = store.AccountStatus(kv[1])
			if !f.Status.Valid() {
				return badRequest(CodeBadRequest, "Status must be one of active, suspended, closed, not %q", kv[1])
			}
		}
	}
	as, more, err := s.st.ListAccounts(r.ctx(), f, lr.storePage())
	if err != nil {
		return s.internal(r, err)
	}
	items := make([]accountJSON, len(as))
	var first, last store.Cursor
	for i, a := range as {
		items[i] = toAccountJSON(a)
	}
	if len(as) > 0 {
		first = store.Cursor{DateCreated: as[0].DateCreated, SID: as[0].SID}
		last = store.Cursor{DateCreated: as[len(as)-1].DateCreated, SID: as[len(as)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "accounts", items, len(as), first, last, more))
	return nil
}

// createAccount serves POST /Accounts.json: a subaccount of the
// authenticated main account, with its own auth token.
func (s *server) createAccount(r *request) error {
	if !r.auth.IsMain() {
		return badRequest(CodeNestedSubaccount, "Subaccounts cannot contain subaccounts")
	}
	now := s.now().UTC()
	name := "SubAccount Created at " + now.Format("2006-01-02 03:04 pm")
	if v, ok := r.PostForm["FriendlyName"]; ok {
		if !validFriendlyName(v[0]) {
			return badRequest(CodeInvalidFriendlyName, "FriendlyName must be 1 to %d characters", maxFriendlyName)
		}
		name = v[0]
	}
	a, err := s.st.CreateAccount(r.ctx(), store.Account{
		SID:             s.newSID(sid.Account),
		OwnerAccountSID: r.auth.SID,
		FriendlyName:    name,
		AuthToken:       s.newToken(),
		Status:          store.StatusActive,
		DateCreated:     now,
		DateUpdated:     now,
	})
	if err != nil {
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusCreated, toAccountJSON(a))
	return nil
}

// instanceAccount resolves the account of /Accounts/{Sid}.json.
func (s *server) instanceAccount(r *request) (store.Account, error) {
	target := instanceSID(r)
	if target == "" {
		return store.Account{}, errNotFound(r.URL.Path)
	}
	return s.reach(r, target)
}

// fetchAccount serves GET /Accounts/{Sid}.json.
func (s *server) fetchAccount(r *request) error {
	a, err := s.instanceAccount(r)
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, toAccountJSON(a))
	return nil
}

// updateAccount serves POST /Accounts/{Sid}.json: FriendlyName and Status.
// Only the parent changes a subaccount's status (Twilio: "you must use your
// main account's credentials to suspend a subaccount"; the main account
// itself cannot be suspended or closed); a closed account stays closed.
func (s *server) updateAccount(r *request) error {
	target, err := s.instanceAccount(r)
	if err != nil {
		return err
	}
	var name *string
	if v, ok := r.PostForm["FriendlyName"]; ok {
		if !validFriendlyName(v[0]) {
			return badRequest(CodeInvalidFriendlyName, "FriendlyName must be 1 to %d characters", maxFriendlyName)
		}
		name = &v[0]
	}
	var status store.AccountStatus
	if v, ok := r.PostForm["Status"]; ok {
		status = store.AccountStatus(v[0])
		if !status.Valid() {
			return badRequest(CodeBadRequest, "Status must be one of active, suspended, closed, not %q", v[0])
		}
		if status != target.Status && target.SID == r.auth.SID {
			return errAccessDenied("An account cannot change its own status; use its parent account's credentials")
		}
	}
	now := s.now()
	a, err := s.st.UpdateAccount(r.ctx(), target.SID, func(a *store.Account) error {
		if name != nil {
			a.FriendlyName = *name
		}
		if status != "" {
			a.Status = status
		}
		a.DateUpdated = now
		return nil
	})
	switch {
	case errors.Is(err, store.ErrClosed):
		return badRequest(CodeAccountClosed, "Unable to update Status for subaccount, subaccount has been closed")
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case err != nil:
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusOK, toAccountJSON(a))
	return nil
}
