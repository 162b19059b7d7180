-- The event log and the callback outbox, PostgreSQL edition: the same tables as
-- ../sqlite/00004_events_outbox.sql except for the auto-increment keys.
-- (Portable SQL has no auto-increment column, so migrations that need one are
-- written once per dialect, in migrations/sqlite and migrations/postgres; Open
-- shows goose the shared files plus its dialect's. Keep the two in step.)
--
-- GENERATED ALWAYS AS IDENTITY: a sequence, so ids increase in insert order;
-- transactions running at once may commit out of that order, which the
-- callers allow for (a call's callbacks and events are written one after the
-- other, so their order within the call is the order of their ids).

-- +goose Up
CREATE TABLE events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
