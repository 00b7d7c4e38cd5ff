package live

import (
	"context"
	"fmt"
	"sync"
)

// A connection that carries live streams and outlives its request, as a
// WebSocket does once the HTTP server has handed it over, is out of the
// server's sight: its Shutdown neither closes it nor waits for it. The
// hub keeps them instead, so that a replica shutting down closes each as
// going away, and waits until it is closed.

// tracked is a connection the hub keeps.
type tracked struct{ goAway func() }

// Track keeps a connection carrying live streams until untrack is
// called, once it is closed: Close calls goAway, which closes it, and
// Shutdown waits for untrack. A closed hub refuses it: ErrClosed.
func (h *Hub) Track(goAway func()) (untrack func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	c := &tracked{goAway: goAway}
	h.conns[c] = struct{}{}
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.conns, c)
			h.checkGoneLocked()
		})
	}, nil
}

// checkGoneLocked closes gone once the hub is closed and no connection
// is left.
func (h *Hub) checkGoneLocked() {
	if h.closed && len(h.conns) == 0 {
		select {
		case <-h.gone:
		default:
			close(h.gone)
		}
	}
}

// Shutdown closes the hub (Close), then waits until every connection it
// tracks is closed, or ctx ends.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.Close()
	select {
	case <-h.gone:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		n := len(h.conns)
		h.mu.Unlock()
		return fmt.Errorf("live connections: %d still open: %w", n, context.Cause(ctx))
	}
}
