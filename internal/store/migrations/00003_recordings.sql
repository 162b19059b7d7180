-- Recordings: one row per recording file. file is the path of the WAV file
-- relative to the data directory (so a shared volume can serve several
-- nodes); times in microseconds since the Unix epoch (0 = not set).

-- +goose Up
CREATE TABLE recordings (
    sid            TEXT   NOT NULL PRIMARY KEY,
    account_sid    TEXT   NOT NULL REFERENCES accounts (sid),
    call_sid       TEXT   NOT NULL,
    conference_sid TEXT   NOT NULL,
    source         TEXT   NOT NULL,
    status         TEXT   NOT NULL,
    channels       BIGINT NOT NULL,
    track          TEXT   NOT NULL,
    start_time     BIGINT NOT NULL,
    duration_ms    BIGINT NOT NULL,
    error_code     BIGINT NOT NULL,
    file           TEXT   NOT NULL,
    date_created   BIGINT NOT NULL,
    date_updated   BIGINT NOT NULL
);

CREATE INDEX recordings_account_idx ON recordings (account_sid, date_created, sid);
CREATE INDEX recordings_call_idx ON recordings (call_sid, date_created, sid);
CREATE INDEX recordings_status_idx ON recordings (status);

-- +goose Down
DROP TABLE recordings;
