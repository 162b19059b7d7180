-- Fewer index pages written per event. Every save of a call writes an event,
-- and each index of the events table is a b-tree whose page a commit writes
-- again (a WAL frame each): measured at 2,000 calls/s, the three indexes
-- were half of the frames of a commit.
--
-- events_account_idx served ListEvents by an account alone, which nothing
-- asks for: the API lists a call's events, or a resource's (a conference's,
-- a participant's). A list by account alone still works, through
-- events_call_idx.
--
-- events_resource_idx held every event twice over for calls: a call's events
-- (its progress, its webhooks) have the call's SID as their resource, so
-- their entries in it were those of events_call_idx again. It now holds only
-- the events of a resource that is not their call; ListEvents finds the
-- others through events_call_idx (resourceSeqs, sql_events.go).
--
-- Portable SQL, as 00001 (PostgreSQL has partial indexes too).

-- +goose Up
DROP INDEX events_account_idx;
DROP INDEX events_resource_idx;
CREATE INDEX events_resource_idx ON events (account_sid, resource_sid, seq) WHERE resource_sid <> call_sid;

-- +goose Down
DROP INDEX events_resource_idx;
CREATE INDEX events_resource_idx ON events (account_sid, resource_sid, seq);
CREATE INDEX events_account_idx ON events (account_sid, seq);
