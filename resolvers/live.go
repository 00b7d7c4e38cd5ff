package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"opfacade/domain"
	"opfacade/live"
	"opfacade/model"
)

// Live opens live subscriptions: the replica's hub (live.Hub).
type Live interface {
	Subscribe(ctx context.Context, req live.Request) (*live.Sub, error)
}

// subscribeMe answers Subscription.me: the caller's OP now, then again
// each time the hub signals that their row or their watched chats
// changed. What the operation selects below it runs for each value, as a
// query's would. The stream ends, saying why (live.Stream), when the hub
// ends the subscription.
func (r *Resolver) subscribeMe(ctx context.Context) (<-chan *model.Staff, error) {
	if _, err := domain.Caller(ctx); err != nil {
		return nil, err
	}
	if r.Live == nil {
		return nil, domain.Errorf(domain.EINTERNAL, "live subscriptions are not configured")
	}
	sub, err := r.Live.Subscribe(ctx, live.Request{Token: live.Token(ctx), Watch: watchedChats(ctx)})
	if err != nil {
		return nil, err
	}
	st := live.StreamFrom(ctx)
	st.Feed()
	out := make(chan *model.Staff)
	go r.feed(ctx, sub, st, out)
	return out, nil
}

// feed sends the subscription's values to out until it ends, each once
// the stream wants it (live.Stream.Offer): not when it took the answer
// another subscriber of the same generation ran. A value waits for the
// one before to be taken: the executor takes it once the answer before
// is written, and the hub's signals coalesce meanwhile, so a slow
// connection holds one value, never a queue; a connection that cannot
// take a write within the send timeout is closed by its transport, which
// ends ctx.
func (r *Resolver) feed(ctx context.Context, sub *live.Sub, st *live.Stream, out chan<- *model.Staff) {
	defer st.Unfeed()
	defer close(out)
	defer sub.Close()
	for first := true; ; first = false {
		staff, gen, err := sub.Next(ctx, first)
		if err != nil {
			if st != nil && ctx.Err() == nil {
				st.End(err)
			}
			return
		}
		if !st.Offer(ctx, gen) {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		select {
		case out <- staffModel(staff):
		case <-ctx.Done():
			return
		}
	}
}

// watchedChats is every chat status the subscription's selection lists,
// through fragments and directives, at any depth (a chat's OP's chats
// are the same OP's): what the hub watches for it. The default [SERVICE]
// counts where no status is given.
func watchedChats(ctx context.Context) domain.ChatFilter {
	oc := graphql.GetOperationContext(ctx)
	fc := graphql.GetFieldContext(ctx)
	var statuses []model.ChatStatus
	var walk func(sel ast.SelectionSet)
	walk = func(sel ast.SelectionSet) {
		for _, f := range graphql.CollectFields(oc, sel, nil) {
			if f.Name == "chats" || f.Name == "chatsConnection" {
				statuses = append(statuses, statusArg(f.ArgumentMap(oc.Variables)["status"])...)
			}
			walk(f.Selections)
		}
	}
	walk(fc.Field.Selections)
	f := chatFilter(statuses)
	f.Statuses = distinct(f.Statuses)
	return f
}

// statusArg reads a status argument as the executor hands it over.
func statusArg(v any) []model.ChatStatus {
	list, _ := v.([]any)
	out := make([]model.ChatStatus, 0, len(list))
	for _, s := range list {
		if s, ok := s.(string); ok {
			out = append(out, model.ChatStatus(s))
		}
	}
	return out
}

// distinct drops repeats, keeping the first of each.
func distinct(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
