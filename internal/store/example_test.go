package store_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// Routing an incoming call: the INVITE's user part names the number.
func ExampleStore_FindNumber() {
	dir, err := os.MkdirTemp("", "switchboard-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, "", dir) // SQLite in dir/switchboard.db
	if err != nil {
		panic(err)
	}
	defer st.Close()

	const acct = "AC0123456789abcdef0123456789abcdef"
	now := time.Now()
	if _, err := st.CreateAccount(ctx, store.Account{SID: acct, OwnerAccountSID: acct, FriendlyName: "main",
		AuthToken: "0123456789abcdef0123456789abcdef", Status: store.StatusActive, DateCreated: now, DateUpdated: now}); err != nil {
		panic(err)
	}
	if _, err := st.CreateNumber(ctx, store.IncomingPhoneNumber{SID: "PN0123456789abcdef0123456789abcdef", AccountSID: acct,
		PhoneNumber: "support", FriendlyName: "Support", APIVersion: "2010-04-01",
		VoiceURL: "https://app.example.com/support", VoiceMethod: "POST", DateCreated: now, DateUpdated: now}); err != nil {
		panic(err)
	}

	n, err := st.FindNumber(ctx, "support")
	fmt.Println(n.VoiceMethod, n.VoiceURL, err)
	_, err = st.FindNumber(ctx, "sales")
	fmt.Println(err)
	// Output:
	// POST https://app.example.com/support <nil>
	// store: not found: number sales
}
