-- Portable SQL: this file runs unchanged on SQLite and PostgreSQL. Only TEXT,
-- BIGINT and BOOLEAN columns; times are BIGINT microseconds since the Unix
-- epoch (UTC); lists are paged by the (date_created, sid) key.
--
-- Tables planned for later issues (design only, not created here):
--   calls            (sid, account_sid, parent_call_sid, from, to, direction,
--                     status, start/end times, duration, price fields)
--   recordings       (sid, account_sid, call_sid, conference_sid, file path,
--                     duration, channels, status)
--   notifications    (sid, account_sid, call_sid, error code, log level,
--                     request url/method/variables, response body)
--   conferences      (sid, account_sid, friendly_name, status, region, times)
--   events           (seq, account_sid, resource sid, type, time, payload
--                     JSON as TEXT): the append-only source that participant
--                     history and status callbacks are built from.
-- They follow the same rules: account_sid on every row, no node-local state.

-- +goose Up
CREATE TABLE accounts (
    sid               TEXT   NOT NULL PRIMARY KEY,
    owner_account_sid TEXT   NOT NULL,
    friendly_name     TEXT   NOT NULL,
    auth_token        TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    date_created      BIGINT NOT NULL,
    date_updated      BIGINT NOT NULL
);

CREATE INDEX accounts_owner_idx ON accounts (owner_account_sid, date_created, sid);
CREATE INDEX accounts_created_idx ON accounts (date_created, sid);

CREATE TABLE incoming_phone_numbers (
    sid                    TEXT    NOT NULL PRIMARY KEY,
    account_sid            TEXT    NOT NULL REFERENCES accounts (sid),
    phone_number           TEXT    NOT NULL,
    friendly_name          TEXT    NOT NULL,
    api_version            TEXT    NOT NULL,
    voice_url              TEXT    NOT NULL,
    voice_method           TEXT    NOT NULL,
    voice_fallback_url     TEXT    NOT NULL,
    voice_fallback_method  TEXT    NOT NULL,
    voice_application_sid  TEXT    NOT NULL,
    voice_caller_id_lookup BOOLEAN NOT NULL,
    status_callback        TEXT    NOT NULL,
    status_callback_method TEXT    NOT NULL,
    sms_url                TEXT    NOT NULL,
    sms_method             TEXT    NOT NULL,
    sms_fallback_url       TEXT    NOT NULL,
    sms_fallback_method    TEXT    NOT NULL,
    date_created           BIGINT  NOT NULL,
    date_updated           BIGINT  NOT NULL,
    CONSTRAINT incoming_phone_numbers_phone_number_key UNIQUE (phone_number)
);

CREATE INDEX incoming_phone_numbers_account_idx
    ON incoming_phone_numbers (account_sid, date_created, sid);

-- +goose Down
DROP TABLE incoming_phone_numbers;
DROP TABLE accounts;
