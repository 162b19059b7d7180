-- Conferences and their participants. Portable SQL, as 00001: TEXT, BIGINT
-- and BOOLEAN columns, times in microseconds since the Unix epoch (0 = not
-- set), lists paged by (date_created, sid). Partial indexes (CREATE ... INDEX
-- ... WHERE) are understood by both SQLite and PostgreSQL.
--
-- A conference row lives from the room's creation to its end; a name is
-- reused by a new row once the old one is completed. A participant row is
-- one join of one call (Insights' participant, SID CP...): a call that leaves
-- and joins again gets a new row. The history of both is in the event log
-- (resource_sid = the conference's or participant's SID).

-- +goose Up
CREATE TABLE conferences (
    sid                                 TEXT   NOT NULL PRIMARY KEY,
    account_sid                         TEXT   NOT NULL REFERENCES accounts (sid),
    friendly_name                       TEXT   NOT NULL,
    status                              TEXT   NOT NULL,
    api_version                         TEXT   NOT NULL,
    region                              TEXT   NOT NULL,
    max_participants                    BIGINT NOT NULL,
    start_time                          BIGINT NOT NULL,
    end_time                            BIGINT NOT NULL,
    reason_conference_ended             TEXT   NOT NULL,
    reason                              TEXT   NOT NULL,
    call_sid_ending_conference          TEXT   NOT NULL,
    participant_label_ending_conference TEXT   NOT NULL,
    unique_participants                 BIGINT NOT NULL,
    max_concurrent_participants         BIGINT NOT NULL,
    tags                                TEXT   NOT NULL, -- JSON array
    settings                            TEXT   NOT NULL, -- JSON object (ConferenceSettings)
    node                                TEXT   NOT NULL,
    date_created                        BIGINT NOT NULL,
    date_updated                        BIGINT NOT NULL
);

-- ListConferences.
CREATE INDEX conferences_account_idx ON conferences (account_sid, date_created, sid);
-- At most one live room per account and name (LiveConference).
CREATE UNIQUE INDEX conferences_live_name_idx ON conferences (account_sid, friendly_name)
    WHERE status <> 'completed';
-- FinalizeOpenConferences.
CREATE INDEX conferences_node_idx ON conferences (node, status);

CREATE TABLE conference_participants (
    sid                       TEXT    NOT NULL PRIMARY KEY,
    account_sid               TEXT    NOT NULL REFERENCES accounts (sid),
    conference_sid            TEXT    NOT NULL REFERENCES conferences (sid),
    call_sid                  TEXT    NOT NULL,
    label                     TEXT    NOT NULL,
    from_address              TEXT    NOT NULL,
    to_address                TEXT    NOT NULL,
    direction                 TEXT    NOT NULL,
    call_status               TEXT    NOT NULL,
    status                    TEXT    NOT NULL,
    muted                     BOOLEAN NOT NULL,
    hold                      BOOLEAN NOT NULL,
    coaching                  BOOLEAN NOT NULL,
    call_sid_to_coach         TEXT    NOT NULL,
    start_conference_on_enter BOOLEAN NOT NULL,
    end_conference_on_exit    BOOLEAN NOT NULL,
    beep_on_enter             BOOLEAN NOT NULL,
    beep_on_exit              BOOLEAN NOT NULL,
    jitter_buffer_size        TEXT    NOT NULL,
    join_time                 BIGINT  NOT NULL,
    leave_time                BIGINT  NOT NULL,
    reason_participant_left   TEXT    NOT NULL,
    node                      TEXT    NOT NULL,
    date_created              BIGINT  NOT NULL,
    date_updated              BIGINT  NOT NULL
);

-- ListParticipants of a room, in join order.
CREATE INDEX conference_participants_conference_idx
    ON conference_participants (conference_sid, date_created, sid);
-- The participants of a call, whatever the room.
CREATE INDEX conference_participants_call_idx ON conference_participants (call_sid);
-- A call, and a label, is in a room at most once at a time.
CREATE UNIQUE INDEX conference_participants_live_call_idx
    ON conference_participants (conference_sid, call_sid)
    WHERE status NOT IN ('complete', 'failed');
CREATE UNIQUE INDEX conference_participants_live_label_idx
    ON conference_participants (conference_sid, label)
    WHERE label <> '' AND status NOT IN ('complete', 'failed');
-- FinalizeOpenConferences.
CREATE INDEX conference_participants_node_idx ON conference_participants (node, status);

-- The events of a resource (a conference's, a participant's): ListEvents by
-- ResourceSID and ConferenceSID.
CREATE INDEX events_resource_idx ON events (account_sid, resource_sid, seq);

-- +goose Down
DROP INDEX events_resource_idx;
DROP TABLE conference_participants;
DROP TABLE conferences;
