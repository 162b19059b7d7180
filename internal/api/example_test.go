package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// Serving the REST API: open the store, make sure the main account exists
// (printing its credentials once, on first start), mount the handler.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "switchboard-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	main, created, err := api.EnsureMainAccount(ctx, st, os.Getenv("SWITCHBOARD_ACCOUNT_SID"), os.Getenv("SWITCHBOARD_AUTH_TOKEN"))
	if err != nil {
		panic(err)
	}
	if created {
		// The real binary prints main.SID and main.AuthToken here.
		fmt.Println("created the main account")
	}

	mux := http.NewServeMux()
	mux.Handle("/2010-04-01/", api.New(api.Config{Store: st, PublicURL: "http://127.0.0.1:8080"}))

	form := url.Values{"PhoneNumber": {"+14155550100"}, "VoiceUrl": {"https://app.example.com/voice"}}
	req := httptest.NewRequest("POST", "/2010-04-01/Accounts/"+main.SID+"/IncomingPhoneNumbers.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(main.SID, main.AuthToken)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// created the main account
	// 201
}
