package store

// BatchObserver watches the store's batched lookups, for metrics: Batch
// is called as each starts, with its name (a fixed text such as "users
// by ids") and how many keys it asks for, however many statements they
// take.
type BatchObserver interface {
	Batch(name string, keys int)
}

// batch tells the batch observer of a lookup of keys under name, and
// cuts keys into the chunks its statements take (see chunks).
func (s *Store) batch(name string, keys []string) [][]string {
	if s.batches != nil {
		s.batches.Batch(name, len(keys))
	}
	return chunks(keys)
}
