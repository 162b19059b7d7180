package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// numberJSON is Twilio's IncomingPhoneNumber resource
// (api.v2010.account.incoming_phone_number in the OpenAPI spec), every field
// included. Fields switchboard has no use for hold Twilio's values for a
// number without that feature: null SIDs, "none", "Inactive", "voice".
type numberJSON struct {
	AccountSID             string            `json:"account_sid"`
	AddressRequirements    string            `json:"address_requirements"`
	AddressSID             *string           `json:"address_sid"`
	APIVersion             string            `json:"api_version"`
	Beta                   bool              `json:"beta"`
	Capabilities           capabilities      `json:"capabilities"`
	DateCreated            string            `json:"date_created"`
	DateUpdated            string            `json:"date_updated"`
	EmergencyStatus        string            `json:"emergency_status"`
	EmergencyAddressSID    *string           `json:"emergency_address_sid"`
	EmergencyAddressStatus string            `json:"emergency_address_status"`
	FriendlyName           string            `json:"friendly_name"`
	IdentitySID            *string           `json:"identity_sid"`
	Origin                 string            `json:"origin"`
	PhoneNumber            string            `json:"phone_number"`
	SID                    string            `json:"sid"`
	SMSApplicationSID      string            `json:"sms_application_sid"`
	SMSFallbackMethod      string            `json:"sms_fallback_method"`
	SMSFallbackURL         string            `json:"sms_fallback_url"`
	SMSMethod              string            `json:"sms_method"`
	SMSURL                 string            `json:"sms_url"`
	StatusCallback         string            `json:"status_callback"`
	StatusCallbackMethod   string            `json:"status_callback_method"`
	TrunkSID               *string           `json:"trunk_sid"`
	URI                    string            `json:"uri"`
	VoiceApplicationSID    string            `json:"voice_application_sid"`
	VoiceCallerIDLookup    bool              `json:"voice_caller_id_lookup"`
	VoiceFallbackMethod    string            `json:"voice_fallback_method"`
	VoiceFallbackURL       *string           `json:"voice_fallback_url"`
	VoiceMethod            string            `json:"voice_method"`
	VoiceURL               *string           `json:"voice_url"`
	BundleSID              *string           `json:"bundle_sid"`
	VoiceReceiveMode       string            `json:"voice_receive_mode"`
	Status                 string            `json:"status"`
	SubresourceURIs        map[string]string `json:"subresource_uris"`
}

type capabilities struct {
	Voice bool `json:"voice"`
	SMS   bool `json:"sms"`
	MMS   bool `json:"mms"`
	Fax   bool `json:"fax"`
}

// nullIfEmpty renders "" as null, as Twilio renders an unset voice_url.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func numberURI(accountSID, numberSID string) string {
	return prefix + "/Accounts/" + accountSID + "/IncomingPhoneNumbers/" + numberSID + ".json"
}

func toNumberJSON(n store.IncomingPhoneNumber) numberJSON {
	return numberJSON{
		AccountSID:             n.AccountSID,
		AddressRequirements:    "none",
		APIVersion:             n.APIVersion,
		Capabilities:           capabilities{Voice: true},
		DateCreated:            formatTime(n.DateCreated),
		DateUpdated:            formatTime(n.DateUpdated),
		EmergencyStatus:        "Inactive",
		EmergencyAddressStatus: "unregistered",
		FriendlyName:           n.FriendlyName,
		Origin:                 "hosted",
		PhoneNumber:            n.PhoneNumber,
		SID:                    n.SID,
		SMSApplicationSID:      "",
		SMSFallbackMethod:      n.SMSFallbackMethod,
		SMSFallbackURL:         n.SMSFallbackURL,
		SMSMethod:              n.SMSMethod,
		SMSURL:                 n.SMSURL,
		StatusCallback:         n.StatusCallback,
		StatusCallbackMethod:   n.StatusCallbackMethod,
		URI:                    numberURI(n.AccountSID, n.SID),
		VoiceApplicationSID:    n.VoiceApplicationSID,
		VoiceCallerIDLookup:    n.VoiceCallerIDLookup,
		VoiceFallbackMethod:    n.VoiceFallbackMethod,
		VoiceFallbackURL:       nullIfEmpty(n.VoiceFallbackURL),
		VoiceMethod:            n.VoiceMethod,
		VoiceURL:               nullIfEmpty(n.VoiceURL),
		VoiceReceiveMode:       "voice",
		Status:                 "in-use",
		SubresourceURIs: map[string]string{
			"assigned_add_ons": prefix + "/Accounts/" + n.AccountSID + "/IncomingPhoneNumbers/" + n.SID + "/AssignedAddOns.json",
		},
	}
}

// numberListAliases are the typed list paths twilio-go also uses
// (IncomingPhoneNumbers/Local.json ...). switchboard does not type its
// numbers, so each serves the whole list.
var numberListAliases = map[string]bool{"Local.json": true, "Mobile.json": true, "TollFree.json": true}

// listNumbers serves GET .../IncomingPhoneNumbers.json, filtered by
// PhoneNumber (partial, '*' a wildcard) and FriendlyName (exact).
func (s *server) listNumbers(r *request) error {
	lr, err := parseList(r, sid.IncomingPhoneNumber, "FriendlyName", "PhoneNumber")
	if err != nil {
		return err
	}
	f := store.NumberFilter{AccountSID: r.acct.SID}
	for _, kv := range lr.filters {
		switch kv[0] {
		case "FriendlyName":
			f.FriendlyName = kv[1]
		case "PhoneNumber":
			f.PhoneNumber = kv[1]
		}
	}
	ns, more, err := s.st.ListNumbers(r.ctx(), f, lr.storePage())
	if err != nil {
		return s.internal(r, err)
	}
	items := make([]numberJSON, len(ns))
	for i, n := range ns {
		items[i] = toNumberJSON(n)
	}
	var first, last store.Cursor
	if len(ns) > 0 {
		first = store.Cursor{DateCreated: ns[0].DateCreated, SID: ns[0].SID}
		last = store.Cursor{DateCreated: ns[len(ns)-1].DateCreated, SID: ns[len(ns)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "incoming_phone_numbers", items, len(ns), first, last, more))
	return nil
}

// createNumber serves POST .../IncomingPhoneNumbers.json. PhoneNumber is
// required; there is no pool to pick one from by AreaCode.
func (s *server) createNumber(r *request) error {
	form := r.PostForm
	raw := form.Get("PhoneNumber")
	if raw == "" {
		if form.Get("AreaCode") != "" {
			return badRequest(CodeAreaCodeUnavailable, "No phone numbers found in area code %s: switchboard provisions only the PhoneNumber you name", form.Get("AreaCode"))
		}
		return badRequest(CodePhoneNumberInvalid, "A 'PhoneNumber' is required")
	}
	phone, ok := normalizePhoneNumber(raw)
	if !ok {
		return badRequest(CodePhoneNumberInvalid, "PhoneNumber %q is invalid: want E.164 (+14155550100) or a SIP user name (support)", raw)
	}
	now := s.now()
	n := store.IncomingPhoneNumber{
		SID:                  s.newSID(sid.IncomingPhoneNumber),
		AccountSID:           r.acct.SID,
		PhoneNumber:          phone,
		FriendlyName:         defaultFriendlyName(phone),
		APIVersion:           APIVersion,
		VoiceMethod:          http.MethodPost,
		VoiceFallbackMethod:  http.MethodPost,
		StatusCallbackMethod: http.MethodPost,
		SMSMethod:            http.MethodPost,
		SMSFallbackMethod:    http.MethodPost,
		DateCreated:          now,
		DateUpdated:          now,
	}
	if err := applyNumberForm(&n, r); err != nil {
		return err
	}
	n, err := s.st.CreateNumber(r.ctx(), n)
	switch {
	case errors.Is(err, store.ErrConflict):
		return badRequest(CodePhoneNumberUnavailable, "PhoneNumber %s is not available: another number on this server has it", phone)
	case errors.Is(err, store.ErrClosed):
		return errAccountNotActive(r.acct.SID) // closed since the request began
	case err != nil:
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusCreated, toNumberJSON(n))
	return nil
}

// applyNumberForm copies the writable parameters present in the form into n,
// checking each; on error n is left half-changed and must be dropped.
func applyNumberForm(n *store.IncomingPhoneNumber, r *request) error {
	form := r.PostForm
	get := func(name string) (string, bool) {
		v, ok := form[name]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	if v, ok := get("FriendlyName"); ok {
		if !validFriendlyName(v) {
			return badRequest(CodeInvalidFriendlyName, "FriendlyName must be 1 to %d characters", maxFriendlyName)
		}
		n.FriendlyName = v
	}
	if v, ok := get("ApiVersion"); ok {
		if v != "2010-04-01" && v != "2008-08-01" {
			return badRequest(CodeBadRequest, "ApiVersion must be 2010-04-01 or 2008-08-01, not %q", v)
		}
		n.APIVersion = v
	}
	urls := []struct {
		param string
		dst   *string
		code  int
	}{
		{"VoiceUrl", &n.VoiceURL, CodeInvalidURL},
		{"VoiceFallbackUrl", &n.VoiceFallbackURL, CodeInvalidURL},
		{"StatusCallback", &n.StatusCallback, CodeInvalidCallbackURL},
		{"SmsUrl", &n.SMSURL, CodeInvalidURL},
		{"SmsFallbackUrl", &n.SMSFallbackURL, CodeInvalidURL},
	}
	for _, u := range urls {
		v, ok := get(u.param)
		if !ok {
			continue
		}
		if v != "" && !validURL(v) {
			return badRequest(u.code, "%s is not a valid URL: %s", u.param, v)
		}
		*u.dst = v // "" clears
	}
	ms := []struct {
		param string
		dst   *string
	}{
		{"VoiceMethod", &n.VoiceMethod},
		{"VoiceFallbackMethod", &n.VoiceFallbackMethod},
		{"StatusCallbackMethod", &n.StatusCallbackMethod},
		{"SmsMethod", &n.SMSMethod},
		{"SmsFallbackMethod", &n.SMSFallbackMethod},
	}
	for _, m := range ms {
		v, ok := get(m.param)
		if !ok {
			continue
		}
		method, valid := normalizeMethod(v)
		if !valid {
			return badRequest(CodeInvalidMethod, "%s must be GET or POST, not %q", m.param, v)
		}
		*m.dst = method
	}
	if v, ok := get("VoiceCallerIdLookup"); ok {
		b, valid := parseBool(v)
		if !valid {
			return badRequest(CodeBadRequest, "VoiceCallerIdLookup must be true or false, not %q", v)
		}
		n.VoiceCallerIDLookup = b
	}
	// Applications are not served yet, so no application SID is
	// accessible; an empty value clears, as on Twilio.
	for _, p := range []string{"VoiceApplicationSid", "SmsApplicationSid"} {
		if v, ok := get(p); ok && v != "" {
			return badRequest(CodeApplicationSIDNotFound, "%s %s is not accessible: switchboard has no Applications yet", p, v)
		}
	}
	if v, ok := get("TrunkSid"); ok && v != "" {
		return badRequest(CodeBadRequest, "TrunkSid is not supported: calls to a number are handled by its VoiceUrl")
	}
	if v, ok := get("VoiceReceiveMode"); ok && !strings.EqualFold(v, "voice") {
		return badRequest(CodeBadRequest, "VoiceReceiveMode %q is not supported: only voice", v)
	}
	return nil
}

// numberSID resolves the {file} of an instance path, or a 404.
func numberSID(r *request) (string, error) {
	s := instanceSID(r)
	if !sid.Valid(sid.IncomingPhoneNumber, s) {
		return "", errNotFound(r.URL.Path)
	}
	return s, nil
}

// fetchNumber serves GET .../IncomingPhoneNumbers/{Sid}.json, and the typed
// list aliases.
func (s *server) fetchNumber(r *request) error {
	if numberListAliases[r.PathValue("file")] {
		return s.listNumbers(r)
	}
	ns, err := numberSID(r)
	if err != nil {
		return err
	}
	n, err := s.st.Number(r.ctx(), r.acct.SID, ns)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case err != nil:
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusOK, toNumberJSON(n))
	return nil
}

// updateNumber serves POST .../IncomingPhoneNumbers/{Sid}.json (and creation
// through the typed aliases). The checks run inside the store's transaction,
// so a refused update writes nothing.
func (s *server) updateNumber(r *request) error {
	if numberListAliases[r.PathValue("file")] {
		return s.createNumber(r)
	}
	ns, err := numberSID(r)
	if err != nil {
		return err
	}
	if v, ok := r.PostForm["AccountSid"]; ok && v[0] != "" && v[0] != r.acct.SID {
		// Twilio moves a number to another account this way; switchboard
		// does not (yet), and refuses rather than ignore it.
		return badRequest(CodeBadRequest, "Moving a number to another account (AccountSid) is not supported")
	}
	var phone string
	if v, ok := r.PostForm["PhoneNumber"]; ok {
		p, valid := normalizePhoneNumber(v[0])
		if !valid {
			return badRequest(CodePhoneNumberInvalid, "PhoneNumber %q is invalid: want E.164 (+14155550100) or a SIP user name (support)", v[0])
		}
		phone = p
	}
	now := s.now()
	n, err := s.st.UpdateNumber(r.ctx(), r.acct.SID, ns, func(n *store.IncomingPhoneNumber) error {
		if phone != "" {
			n.PhoneNumber = phone
		}
		if err := applyNumberForm(n, r); err != nil {
			return err
		}
		n.DateUpdated = now
		return nil
	})
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case errors.Is(err, store.ErrConflict):
		return badRequest(CodePhoneNumberUnavailable, "PhoneNumber %s is not available: another number on this server has it", phone)
	case err != nil:
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusOK, toNumberJSON(n))
	return nil
}

// deleteNumber serves DELETE .../IncomingPhoneNumbers/{Sid}.json: 204 and no
// body; the number stops routing at once.
func (s *server) deleteNumber(r *request) error {
	if numberListAliases[r.PathValue("file")] {
		return errMethodNotAllowed(r.Method)
	}
	ns, err := numberSID(r)
	if err != nil {
		return err
	}
	err = s.st.DeleteNumber(r.ctx(), r.acct.SID, ns)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case err != nil:
		return s.internal(r, err)
	}
	r.w.WriteHeader(http.StatusNoContent)
	return nil
}
