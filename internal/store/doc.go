// Package store is switchboard's persistence: accounts, incoming phone
// numbers, calls and the notifications raised while running them, recordings,
// conferences and their participants, the event log that history is rebuilt
// from and the outbox of callbacks to deliver.
//
// Everything goes through the Store interface. Open returns the one
// implementation, which speaks database/sql to either engine:
//
//   - SQLite (modernc.org/sqlite, pure Go, no cgo), the default: the file
//     switchboard.db in the data directory, in WAL mode, with a single writer
//     connection and a small pool of read-only connections;
//   - PostgreSQL (pgx through its database/sql adapter), selected by a
//     postgres:// DSN, for several nodes sharing one database.
//
// The SQL text is the same for both: $N placeholders (modernc.org/sqlite binds
// $N to the N-th argument, as PostgreSQL does), only TEXT, BIGINT and BOOLEAN
// columns, times as BIGINT microseconds since the Unix epoch in UTC. The only
// dialect differences are the row locks PostgreSQL needs where several writers
// meet (FOR UPDATE in read-modify-write transactions, FOR SHARE on the parent
// account while a number is inserted, FOR UPDATE SKIP LOCKED where nodes claim
// callbacks); SQLite's single writer serialises those transactions already.
// And the auto-increment keys of the event log and the outbox, which portable
// SQL cannot declare: those tables' migration is written once per dialect.
//
// On SQLite the writes of the hot paths (calls, events, the outbox,
// recordings, conferences) go through a group commit (writer.go): one
// goroutine runs the writes queued at the moment, up to 64, in one
// transaction, each in its own savepoint so that a write that fails is
// undone alone and gets its own error, and commits once; each caller returns
// when its write is committed. The commit, most of a small write's cost, is
// shared, and writes no longer queue one by one for the single connection.
// On PostgreSQL each write is a transaction of its own on the pool.
//
// The writer never copies the WAL back into the database: a checkpointer does,
// four times a second, on a connection of its own (checkpoint.go). With
// WithCheckpointHelper (switchboard serve) it runs them in a helper process
// started from the server's executable, so that their fsyncs do not stop the
// server (checkpointhelper.go).
//
// SQLite runs with synchronous=NORMAL: a commit survives a crash of the
// process, and only a power failure may lose the last few commits. Every
// commit paying an fsync would not keep up with the call rates switchboard
// aims at; use PostgreSQL where power-loss durability matters.
//
// The schema is managed by goose migrations embedded from migrations/*.sql
// (plus migrations/sqlite or migrations/postgres for the dialect's own) and
// applied by Open; on PostgreSQL they run under an advisory lock, so nodes may
// start together. Migrations only ever add: a released binary's schema is never
// edited, a new file is written instead.
//
// Lists are paged by key, not by offset: rows are ordered by (date_created,
// sid), ascending or (Page.Desc, Twilio's order for calls and notifications)
// newest first, and a Cursor made from the last row of a page selects the
// next one, so a page token stays valid while rows are added or deleted.
// Offsets are supported too, for Twilio's Page parameter without a PageToken.
//
// Rules the schema keeps for what comes later: every row carries its
// account_sid; nothing node-local (ports, goroutines, live call state) is
// stored, so that nodes sharing PostgreSQL see the same data; a phone number is
// unique across the server because an INVITE is routed by it (FindNumber).
//
// Conferences (ConferenceStore) follow the calls' pattern: SaveConference
// writes a room, the participants that changed, their events (EventConference,
// EventParticipant) and callbacks in one transaction, and a completed
// conference is final. A room's name is unique among the account's live
// (not completed) rooms, by a partial unique index, and reusable by a new
// room once the old one has completed. A participant row is one join of one
// call, named by Insights' participant SID (CP...): a call that leaves and
// comes back is a new participant, so the rows are the room's whole
// participant history, as Conference Insights lists it, while the
// 2010-04-01 API shows the current ones (ParticipantFilter.Current). The
// timeline of a room is ListEvents with EventFilter.ConferenceSID.
//
// The conformance suite in package storetest is written against the Store
// interface only; sqlite_test.go runs it always and postgres_test.go runs it
// when SWITCHBOARD_TEST_POSTGRES names a PostgreSQL database.
package store
