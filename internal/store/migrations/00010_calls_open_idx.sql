-- One small index of the calls still open, in place of an index of every
-- call by status and another by node and status. Only FinalizeOpenCalls
-- looks calls up by status or node, and only for open ones; the other two
-- indexes held every call ever made, and each status change of a call moved
-- its entry in both (two b-trees, a page or two each, written per save). A
-- call now enters this index when it is created, leaves it when it ends, and
-- the index stays as small as the number of live calls.
--
-- The queries that use it name the same three statuses literally (SQLite
-- uses a partial index only for a WHERE clause that contains the index's).
-- Portable SQL, as 00001.

-- +goose Up
CREATE INDEX calls_open_idx ON calls (node) WHERE status IN ('queued', 'ringing', 'in-progress');
DROP INDEX calls_status_idx;
DROP INDEX calls_node_idx;

-- +goose Down
CREATE INDEX calls_node_idx ON calls (node, status);
CREATE INDEX calls_status_idx ON calls (status);
DROP INDEX calls_open_idx;
