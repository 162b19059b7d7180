-- One row per node (switchboard process, as calls.node names it): the last
-- time it proved alive. A node rewrites its row every few seconds, whatever
-- its load; after a crash (kill -9, power loss) the next start ends the
-- calls, conferences and participants the node left open no earlier than
-- that time, so their durations are not lost. Portable SQL, as 00001: times
-- in microseconds since the Unix epoch.

-- +goose Up
CREATE TABLE nodes (
    node         TEXT   NOT NULL PRIMARY KEY,
    heartbeat_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE nodes;
