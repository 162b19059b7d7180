package audiocache

// Waiters returns how many Gets wait for the fetch of rawURL in flight (0
// when none is).
func (c *Cache) Waiters(rawURL string) int {
	_, norm, err := normalize(rawURL)
	if err != nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if fl := c.flights[keyOf(norm)]; fl != nil {
		return fl.waiters
	}
	return 0
}

// Key returns the key naming the files of rawURL's entry.
func Key(rawURL string) string {
	_, norm, err := normalize(rawURL)
	if err != nil {
		return ""
	}
	return keyOf(norm)
}
