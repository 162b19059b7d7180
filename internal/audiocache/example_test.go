package audiocache_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
)

// A <Play> URL served with Cache-Control: max-age is fetched once, then
// played from disk until it goes stale.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cowbell.wav" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Cache-Control", "max-age=300")
		w.Write(wavBody(1000))
	}))
	defer srv.Close()
	dir, err := os.MkdirTemp("", "play")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	c, err := audiocache.New(audiocache.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	for range 2 {
		e, err := c.Get(context.Background(), srv.URL+"/cowbell.wav")
		if err != nil {
			panic(err)
		}
		// Open e.Path and play it, then:
		e.Release()
		fmt.Println(e.Outcome, e.ContentType, e.Size)
	}

	// Failures carry Twilio's error code, for the call's notifications.
	_, err = c.Get(context.Background(), srv.URL+"/missing.wav")
	var ae *audiocache.Error
	if errors.As(err, &ae) {
		fmt.Println(ae.Code, ae.Message(), ae.Status)
	}
	// Output:
	// fetched audio/wav 1000
	// hit audio/wav 1000
	// 11200 HTTP retrieval failure 404
}
