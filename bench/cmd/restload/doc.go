// Command restload is the load generator of bench/run.sh rest: it creates
// calls through switchboard's REST API (POST
// /2010-04-01/Accounts/{AccountSid}/Calls.json, basic auth with
// SWITCHBOARD_ACCOUNT_SID and SWITCHBOARD_AUTH_TOKEN) at -rate calls/s for
// -seconds, open loop: a pacer issues create number i at start + i/rate
// whatever happened to the earlier ones, with at most -max-inflight create
// requests outstanding (a create due while that many are pending is not
// sent, and counted).
//
// Every call asks for its status callbacks (-events, by default initiated,
// ringing, answered and completed) at restload's own HTTP listener on
// loopback, which records per CallSid when each arrived. After the last
// create it waits up to -wait for every created call's completed callback,
// then prints:
//
//   - creates sent, answered 201, failed (by HTTP status and Twilio error
//     code, or transport error), not sent (in-flight limit, deadline);
//   - create latency (POST sent -> 201 read) p50/p99/max, and how late the
//     pacer issued creates (p99/max), so an overloaded load core shows;
//   - create -> ringing and create -> answered (POST sent -> the
//     CallStatus=ringing / in-progress callback received) p50/p90/p99/max,
//     answered -> completed p50/max;
//   - the completed callbacks by CallStatus (completed, busy, failed,
//     no-answer, canceled) and the calls with no completed callback;
//   - a last line "RESULT key=value ..." for scripts.
//
// Exit status 0 when every create was answered 201 and every call completed
// with CallStatus=completed, 1 otherwise, 2 on a usage or setup error. Every
// loop is bounded in count and in time; it uses the standard library only.
package main
