package domain

import "context"

type callerKey struct{}

// WithCaller returns ctx on behalf of s, the OP whose credentials a front
// door checked.
func WithCaller(ctx context.Context, s Staff) context.Context {
	return context.WithValue(ctx, callerKey{}, s)
}

// Caller returns the OP ctx runs on behalf of, or EUNAUTHENTICATED.
func Caller(ctx context.Context) (Staff, error) {
	if s, ok := ctx.Value(callerKey{}).(Staff); ok {
		return s, nil
	}
	return Staff{}, Errorf(EUNAUTHENTICATED, "a valid bearer token is required")
}
