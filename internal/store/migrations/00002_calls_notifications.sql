-- Calls and the notifications (Twilio's debugger alerts) raised while running
-- them. Same portable rules as 00001: TEXT/BIGINT only, times in microseconds
-- since the Unix epoch (0 = not set), lists paged by (date_created, sid).

-- +goose Up
CREATE TABLE calls (
    sid              TEXT   NOT NULL PRIMARY KEY,
    account_sid      TEXT   NOT NULL REFERENCES accounts (sid),
    parent_call_sid  TEXT   NOT NULL,
    phone_number_sid TEXT   NOT NULL,
    from_address     TEXT   NOT NULL,
    to_address       TEXT   NOT NULL,
    status           TEXT   NOT NULL,
    direction        TEXT   NOT NULL,
    api_version      TEXT   NOT NULL,
    forwarded_from   TEXT   NOT NULL,
    caller_name      TEXT   NOT NULL,
    answered_by      TEXT   NOT NULL,
    start_time       BIGINT NOT NULL,
    answered_at      BIGINT NOT NULL,
    end_time         BIGINT NOT NULL,
    duration         BIGINT NOT NULL,
    date_created     BIGINT NOT NULL,
    date_updated     BIGINT NOT NULL
);

CREATE INDEX calls_account_idx ON calls (account_sid, date_created, sid);
CREATE INDEX calls_status_idx ON calls (status);

CREATE TABLE notifications (
    sid               TEXT   NOT NULL PRIMARY KEY,
    account_sid       TEXT   NOT NULL REFERENCES accounts (sid),
    call_sid          TEXT   NOT NULL,
    api_version       TEXT   NOT NULL,
    error_code        BIGINT NOT NULL,
    log_level         BIGINT NOT NULL,
    message_text      TEXT   NOT NULL,
    more_info         TEXT   NOT NULL,
    message_date      BIGINT NOT NULL,
    request_url       TEXT   NOT NULL,
    request_method    TEXT   NOT NULL,
    request_variables TEXT   NOT NULL,
    response_headers  TEXT   NOT NULL,
    response_body     TEXT   NOT NULL,
    date_created      BIGINT NOT NULL,
    date_updated      BIGINT NOT NULL
);

CREATE INDEX notifications_account_idx ON notifications (account_sid, date_created, sid);
CREATE INDEX notifications_call_idx ON notifications (call_sid, date_created, sid);

-- +goose Down
DROP TABLE notifications;
DROP TABLE calls;
