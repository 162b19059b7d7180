// Command switchboard is the one binary of switchboard, a self-hosted voice
// platform that speaks Twilio's contract.
//
//	switchboard serve [flags]         run the server (SIP, media, REST API)
//	switchboard lint FILE...|-        check TwiML documents
//	switchboard call SIP-URI [flags]  place one call with the built-in softphone
//	switchboard call --listen ADDR    take calls with it (answer, reject, let ring)
//	switchboard version               print the version
//
// The flags of serve and their SWITCHBOARD_* environment variables are the public
// contract written in DESIGN.md; package config reads them.
package main
