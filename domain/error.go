package domain

import (
	"errors"
	"fmt"
)

// ErrorCode classifies a failure by what the caller can do about it. Each
// front door maps these codes to what its clients expect, in one table.
type ErrorCode string

const (
	// EUNAUTHENTICATED: no valid credentials (missing, unknown or expired token).
	EUNAUTHENTICATED ErrorCode = "unauthenticated"
	// EFORBIDDEN: valid credentials that do not allow this.
	EFORBIDDEN ErrorCode = "forbidden"
	// ENOTFOUND: the thing asked for does not exist.
	ENOTFOUND ErrorCode = "not_found"
	// EINVALID: the request itself is wrong.
	EINVALID ErrorCode = "invalid"
	// EUNAVAILABLE: the database cannot be reached or is overloaded; retry later.
	EUNAVAILABLE ErrorCode = "unavailable"
	// EINTERNAL: anything unexpected. Its details are logged, never shown.
	EINTERNAL ErrorCode = "internal"
	// ELIVETOKEN, ELIVECONNECTION, ELIVEREPLICA: a live subscription
	// refused, the bearer token's, the connection's or the replica's
	// subscriptions at their limit; end one, or try another replica.
	ELIVETOKEN      ErrorCode = "live_token"
	ELIVECONNECTION ErrorCode = "live_connection"
	ELIVEREPLICA    ErrorCode = "live_replica"
)

// Error is a failure with a meaning. Message is safe to show to clients;
// Err, when set, is the cause for the log and is never shown.
type Error struct {
	Code    ErrorCode
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with a client-safe message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error that keeps cause for the log.
func Wrap(code ErrorCode, cause error, message string) *Error {
	return &Error{Code: code, Message: message, Err: cause}
}

// Code returns the code of the first Error in err's chain, EINTERNAL for any
// other error, and "" for nil.
func Code(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// Message returns the client-safe message of err, or a generic one when err
// is not an Error.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}
