package api

import "net/http"

// NewWithIDs is New with deterministic SID and token generators, for golden
// files.
func NewWithIDs(cfg Config, newSID func(prefix string) string, newToken func() string) http.Handler {
	return newServer(cfg, newSID, newToken)
}
