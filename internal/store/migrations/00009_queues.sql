-- Call queues (<Enqueue>, <Dial><Queue>, the Queues resource). Portable SQL,
-- as 00001. A queue is created on first use by name, per account, or through
-- the REST API. Its members are the calls waiting in it: they live in the
-- process that runs them, never in the database, so a crash cannot leave a
-- phantom member behind. The average wait is kept as a sum and a count of
-- the members dequeued.

-- +goose Up
CREATE TABLE queues (
    sid             TEXT   NOT NULL PRIMARY KEY,
    account_sid     TEXT   NOT NULL REFERENCES accounts (sid),
    friendly_name   TEXT   NOT NULL,
    max_size        BIGINT NOT NULL,
    wait_total_ms   BIGINT NOT NULL,
    dequeued        BIGINT NOT NULL,
    date_created    BIGINT NOT NULL,
    date_updated    BIGINT NOT NULL
);
CREATE UNIQUE INDEX queues_name_idx ON queues (account_sid, friendly_name);
CREATE INDEX queues_account_idx ON queues (account_sid, date_created, sid);

-- +goose Down
DROP TABLE queues;
