package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ---- node heartbeats ----

func (s *sqlStore) Heartbeat(ctx context.Context, node string, at time.Time) error {
	if node == "" {
		return fmt.Errorf("%w: heartbeat without a node", ErrInvalid)
	}
	if _, err := s.w.ExecContext(ctx,
		"INSERT INTO nodes (node, heartbeat_at) VALUES ($1, $2) "+
			"ON CONFLICT (node) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
		node, micros(at)); err != nil {
		return fmt.Errorf("heartbeat of %s: %w", node, classify(err))
	}
	return nil
}

// heartbeats returns every node's last heartbeat, in microseconds, read in
// tx (the table has one row per node: a handful).
func heartbeats(ctx context.Context, tx *sql.Tx) (map[string]int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT node, heartbeat_at FROM nodes")
	if err != nil {
		return nil, fmt.Errorf("read heartbeats: %w", err)
	}
	defer rows.Close()
	hb := make(map[string]int64)
	for rows.Next() {
		var node string
		var at int64
		if err := rows.Scan(&node, &at); err != nil {
			return nil, fmt.Errorf("read heartbeats: %w", err)
		}
		hb[node] = at
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read heartbeats: %w", err)
	}
	return hb, nil
}

// lastAlive is when something last updated at updated by node was last known
// alive: the later of that update and the node's last heartbeat.
func lastAlive(hb map[string]int64, node string, updated time.Time) time.Time {
	if at, ok := hb[node]; ok && at > micros(updated) {
		return fromMicros(at)
	}
	return updated
}
