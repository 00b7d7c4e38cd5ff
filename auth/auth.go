// Package auth carries who is calling through a request's context: the
// bearer token a GraphQL request presented, and the OP it was checked to
// belong to. Checking happens in the front doors (api, legacy); resolvers
// only read the result.
package auth

import (
	"context"
	"net/http"
	"strings"

	"opfacade/domain"
)

type staffKey struct{}
type tokenKey struct{}

// WithStaff returns ctx authenticated as s.
func WithStaff(ctx context.Context, s domain.Staff) context.Context {
	return context.WithValue(ctx, staffKey{}, s)
}

// StaffFrom returns the authenticated OP, if any.
func StaffFrom(ctx context.Context) (domain.Staff, bool) {
	s, ok := ctx.Value(staffKey{}).(domain.Staff)
	return s, ok
}

// Caller returns the authenticated OP or EUNAUTHENTICATED.
func Caller(ctx context.Context) (domain.Staff, error) {
	if s, ok := StaffFrom(ctx); ok {
		return s, nil
	}
	return domain.Staff{}, domain.Errorf(domain.EUNAUTHENTICATED, "a valid bearer token is required")
}

// TokenFrom returns the bearer token the request presented, if any.
func TokenFrom(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(tokenKey{}).(string)
	return t, ok && t != ""
}

// BearerMiddleware puts the request's bearer token in its context. It does
// not check it: operations that need no caller (introspection) must not
// cost a database read.
func BearerMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := bearer(r.Header.Get("Authorization")); ok {
			r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok))
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
