-- The node (switchboard process) running each call, so that a node starting
-- on a shared PostgreSQL closes only its own calls left open by a crash, not
-- the live calls of the other nodes. Portable SQL, as 00001.

-- +goose Up
ALTER TABLE calls ADD COLUMN node TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_node_idx ON calls (node, status);

-- +goose Down
DROP INDEX calls_node_idx;
ALTER TABLE calls DROP COLUMN node;
