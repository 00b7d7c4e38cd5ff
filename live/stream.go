package live

import (
	"context"
	"sync"
	"time"
)

// Stream is what the GraphQL endpoint keeps of one subscription's
// stream: why it ended, when the hub or the subscriber ended it with an
// error; a digest of the last answer sent, so that an answer equal to it
// is not sent again; and the handover of each value from the
// subscription's feed to the endpoint, which lets subscribers of one OP
// that run the same operation share one run of it (Answer).
type Stream struct {
	mu   sync.Mutex
	err  error
	why  error // err, kept
	last [32]byte
	sent bool
	// read is when the run of the last answer ended: a shared answer
	// whose run started earlier may be older, and is not taken.
	read    time.Time
	feeding bool

	offers  chan *Generation // the feed's next value, by its generation
	wants   chan bool        // the answer to each offer: run the value?
	unfed   chan struct{}    // closed when the feed ends
	endFeed sync.Once
}

// NewStream returns the stream of a subscription about to be resolved.
func NewStream() *Stream {
	return &Stream{offers: make(chan *Generation), wants: make(chan bool, 1), unfed: make(chan struct{})}
}

type streamKey struct{}

// WithStream returns ctx for a subscription's operation, with st.
func WithStream(ctx context.Context, st *Stream) context.Context {
	return context.WithValue(ctx, streamKey{}, st)
}

// StreamFrom returns the stream of the subscription ctx runs; nil outside one.
func StreamFrom(ctx context.Context) *Stream {
	st, _ := ctx.Value(streamKey{}).(*Stream)
	return st
}

// End notes why the stream ends.
func (st *Stream) End(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.err, st.why = err, err
}

// Why is why the stream ended, when End said; nil otherwise.
func (st *Stream) Why() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.why
}

// Err is why the stream ended, once: nil afterwards, and when it ended
// without an error.
func (st *Stream) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	err := st.err
	st.err = nil
	return err
}

// Changed reports whether an answer of this digest differs from the last
// one sent, and notes it as sent.
func (st *Stream) Changed(digest [32]byte) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sent && digest == st.last {
		return false
	}
	st.last, st.sent = digest, true
	return true
}

// The feed's side: the subscription's resolver, which sends the OP's
// values to the executor. Each value is offered first, and sent only
// when the endpoint wants to run the selection over it; a nil stream
// wants every value.

// Feed notes that a feed hands the stream its values from now on, until
// it calls Unfeed. It is called while the subscription is resolved,
// before the endpoint asks for the first answer.
func (st *Stream) Feed() {
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.feeding = true
}

// Unfeed notes that the feed has ended: it sends no more values.
func (st *Stream) Unfeed() {
	if st == nil {
		return
	}
	st.endFeed.Do(func() { close(st.unfed) })
}

// Offer hands over the feed's next value, of the generation gen (nil
// for the subscription's first), once the endpoint asks for the next
// answer, and reports whether the endpoint wants the value sent to run
// the selection over it; false when it took the answer another
// subscriber of gen ran, or ctx ended.
func (st *Stream) Offer(ctx context.Context, gen *Generation) bool {
	if st == nil {
		return true
	}
	select {
	case st.offers <- gen:
	case <-ctx.Done():
		return false
	}
	select {
	case want := <-st.wants:
		return want
	case <-ctx.Done():
		return false
	}
}

// The endpoint's side.

// Answer returns the stream's next answer, which run computes by taking
// the feed's next value (or its end) and running the selection over it.
// run reports whether its answer may be shared (whole, without errors).
// key names what, beside the OP's data, makes the answer what it is:
// the operation, its variables, the caller. Subscribers of the
// generation the value belongs to run key once: the first runs it, the
// others take its answer, unless its run failed, or started before
// their own last answer's ended (so that no answer is older than the one
// before it): then they run their own.
func (st *Stream) Answer(ctx context.Context, key string, run func() (any, bool)) any {
	gen, fed := st.take(ctx)
	if !fed {
		return st.run(run).v // there is no feed to tell
	}
	if gen == nil { // the first value: its own
		st.wants <- true
		return st.run(run).v
	}
	return gen.answer(ctx, st, key, run)
}

// take waits for the feed to offer its next value; fed is false when
// no feed will (the subscription has none, or it ended) or ctx ended.
func (st *Stream) take(ctx context.Context) (gen *Generation, fed bool) {
	st.mu.Lock()
	feeding := st.feeding
	st.mu.Unlock()
	if !feeding {
		return nil, false
	}
	select {
	case gen = <-st.offers:
		return gen, true
	case <-st.unfed:
	case <-ctx.Done():
	}
	return nil, false
}

// run runs an answer of the stream's own, and notes when it ended.
func (st *Stream) run(run func() (any, bool)) *shared {
	r := &shared{start: time.Now()}
	r.v, r.ok = run()
	r.end = time.Now()
	st.readAt(r.end)
	return r
}

func (st *Stream) readAt(t time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.read = t
}

func (st *Stream) lastRead() time.Time {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.read
}

// Generation is what one tick found changed of an OP: the subscribers
// of the OP it signalled get it with their value (Sub.Next), and share
// with it the answers they run (Stream.Answer). It lives as long as one
// of them holds it.
type Generation struct {
	mu   sync.Mutex
	runs map[string]*shared
}

// shared is one run of an answer, shared by the subscribers of a
// generation that run the same key.
type shared struct {
	done       chan struct{} // closed once the run ended
	start, end time.Time
	v          any
	ok         bool
}

// answer is Stream.Answer for a value of generation g.
func (g *Generation) answer(ctx context.Context, st *Stream, key string, run func() (any, bool)) any {
	g.mu.Lock()
	r, ok := g.runs[key]
	if !ok {
		if g.runs == nil {
			g.runs = map[string]*shared{}
		}
		r = &shared{done: make(chan struct{})}
		g.runs[key] = r
	}
	g.mu.Unlock()
	if !ok { // the first: it runs, for all
		st.wants <- true
		defer close(r.done) // even if run panics: the others then run their own
		own := st.run(run)
		r.start, r.end, r.v, r.ok = own.start, own.end, own.v, own.ok
		return r.v
	}
	select {
	case <-r.done:
		if r.ok && r.start.After(st.lastRead()) {
			st.wants <- false
			st.readAt(r.end)
			return r.v
		}
	case <-ctx.Done():
	}
	st.wants <- true
	return st.run(run).v
}
