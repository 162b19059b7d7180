package audiocache_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
)

// Deny (the operator's --webhook-deny) keeps <Play> fetches away from the
// listed addresses: a fetch there fails with 11205 and the server never
// sees it; an address not listed is fetched.
func TestDenyListedAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write([]byte("RIFF"))
	}))
	defer srv.Close()
	denied, err := audiocache.New(audiocache.Options{Dir: t.TempDir(), Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	defer denied.Close()
	_, err = denied.Get(context.Background(), srv.URL+"/a.wav")
	if code(t, err) != audiocache.CodeConnectionFailure || hits.Load() != 0 {
		t.Errorf("a denied address: err %v (want 11205), %d requests reached it", err, hits.Load())
	}
	allowed, err := audiocache.New(audiocache.Options{Dir: t.TempDir(), Deny: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	defer allowed.Close()
	if _, err := allowed.Get(context.Background(), srv.URL+"/a.wav"); err != nil || hits.Load() != 1 {
		t.Errorf("an address not denied: %v, %d requests", err, hits.Load())
	}
}
