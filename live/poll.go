package live

import (
	"context"
	"slices"
	"time"

	"opfacade/domain"
)

// poll ticks every interval until the last subscriber leaves or the hub
// closes.
func (h *Hub) poll() {
	t := time.NewTicker(h.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-h.stop:
			h.mu.Lock()
			h.polling = false
			h.mu.Unlock()
			return
		}
		watches := h.watches()
		if watches == nil {
			return // polling set false under the lock
		}
		h.tick(watches)
	}
}

// watches lists each subscribed OP with every status any of its
// subscribers watches; nil, and the poller marked stopped, when there are
// none.
func (h *Hub) watches() []domain.Watch {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ops) == 0 {
		h.polling = false
		return nil
	}
	out := make([]domain.Watch, 0, len(h.ops))
	for id, w := range h.ops {
		if w.stale {
			w.filter, w.stale = union(w.subs), false
		}
		out = append(out, domain.Watch{StaffID: id, Chats: w.filter})
	}
	return out
}

// union is every status the subscribers watch, sorted.
func union(subs map[*Sub]struct{}) domain.ChatFilter {
	var f domain.ChatFilter
	for s := range subs {
		for _, st := range s.watch.Statuses {
			if !slices.Contains(f.Statuses, st) {
				f.Statuses = append(f.Statuses, st)
			}
		}
		f.Unknown = f.Unknown || s.watch.Unknown
	}
	slices.Sort(f.Statuses)
	return f
}

// tick reads the fingerprints of watches and signals the subscribers
// whose OP's fingerprint is not the one they last saw, those of one OP
// with one generation, whose answers they share; then ends the
// subscriptions whose token has expired. A failed read signals nobody
// (the store logs the outage); the next tick tries again.
func (h *Hub) tick(watches []domain.Watch) {
	h.ticks.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeout)
	defer cancel()
	fps, err := h.src.Fingerprints(ctx, watches)
	if err != nil {
		h.cfg.Log.Debug("live: reading fingerprints failed", "err", err)
		return
	}
	var expiring []*Sub
	now := h.cfg.Now()
	h.mu.Lock()
	for id, fp := range fps {
		w := h.ops[id]
		if w == nil {
			continue
		}
		w.fp, w.known = fp.Sum, true
		var gen *Generation // of the subscribers signalled now
		for s := range w.subs {
			if !s.hasSeen || s.seen != fp.Sum {
				if gen == nil {
					gen = &Generation{}
				}
				s.seen, s.hasSeen, s.staff, s.gen = fp.Sum, true, fp.Staff, gen
				s.notifyLocked()
			}
			if now.After(s.expires) {
				expiring = append(expiring, s)
			}
		}
	}
	h.mu.Unlock()
	for _, s := range expiring {
		_ = h.checkExpiry(ctx, s)
	}
}

// baseline is the fingerprint a new subscriber of the OP starts from,
// read no later than its first answer, so that the next tick signals it
// only when something changed since: the one the last tick read when the
// OP is watched already, else one read now. Without one (the read
// failed), the next tick signals it, and its selection runs again.
func (h *Hub) baseline(ctx context.Context, staffID string, f domain.ChatFilter) (uint64, bool) {
	h.mu.Lock()
	w := h.ops[staffID]
	if w != nil && w.known {
		defer h.mu.Unlock()
		return w.fp, true
	}
	h.mu.Unlock()
	fps, err := h.src.Fingerprints(ctx, []domain.Watch{{StaffID: staffID, Chats: f}})
	if err != nil {
		return 0, false
	}
	fp, ok := fps[staffID]
	return fp.Sum, ok
}

// checkExpiry ends s when its token has expired: when the expiry it knows
// has passed, the token is read again, as the platform may have extended
// the session; still expired (or gone), the subscription ends with
// UNAUTHENTICATED.
func (h *Hub) checkExpiry(ctx context.Context, s *Sub) error {
	h.mu.Lock()
	expires, ended, err := s.expires, s.ended, s.err
	h.mu.Unlock()
	if ended {
		return err
	}
	if !h.cfg.Now().After(expires) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	sess, err := h.src.SessionByToken(ctx, s.token)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		s.expires = sess.Expires
		return nil
	case domain.Code(err) == domain.EUNAUTHENTICATED:
		s.endLocked(errExpired)
		return errExpired
	}
	return nil // the database did not answer: try again at the next tick
}
