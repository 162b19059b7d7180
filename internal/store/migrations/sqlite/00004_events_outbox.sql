-- The event log and the callback outbox, SQLite edition: the same tables as
-- ../postgres/00004_events_outbox.sql except for the auto-increment keys.
-- (Portable SQL has no auto-increment column, so migrations that need one are
-- written once per dialect, in migrations/sqlite and migrations/postgres; Open
-- shows goose the shared files plus its dialect's. Keep the two in step.)
--
-- INTEGER PRIMARY KEY AUTOINCREMENT: the rowid, never reused even after the
-- newest rows are deleted (a plain INTEGER PRIMARY KEY would hand out a
-- deleted maximum again, and a reader that had seen it would miss the new
-- row). The single writer connection makes the order of ids the commit order.

-- +goose Up
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_sid  TEXT   NOT NULL REFERENCES accounts (sid),
    call_sid     TEXT   NOT NULL,
    resource_sid TEXT   NOT NULL,
    type         TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    time         BIGINT NOT NULL,
    payload      TEXT   NOT NULL
);

-- ListEvents by account, by call (and DeleteCall).
CREATE INDEX events_account_idx ON events (account_sid, seq);
CREATE INDEX events_call_idx ON events (account_sid, call_sid, seq);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_sid  TEXT   NOT NULL REFERENCES accounts (sid),
    call_sid     TEXT   NOT NULL,
    url          TEXT   NOT NULL,
    method       TEXT   NOT NULL,
    params       TEXT   NOT NULL,
    max_attempts BIGINT NOT NULL,
    attempts     BIGINT NOT NULL,
    next_attempt BIGINT NOT NULL,
    lease_owner  TEXT   NOT NULL,
    lease_until  BIGINT NOT NULL,
    date_created BIGINT NOT NULL
);

-- Claiming: the head of each call's line, then what is due and free.
CREATE INDEX outbox_call_idx ON outbox (call_sid, id);
CREATE INDEX outbox_due_idx ON outbox (next_attempt, lease_until);
-- Heartbeats (ExtendLeases).
CREATE INDEX outbox_lease_idx ON outbox (lease_owner);

-- +goose Down
DROP TABLE outbox;
DROP TABLE events;
