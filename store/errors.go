package store

import (
	"context"
	"errors"
	"fmt"

	"opfacade/domain"
)

// classify turns a driver error into a domain error, keeping the cause,
// classed as a Fault when it is one, for the log:
//
//   - unreachable, timed out: EUNAVAILABLE, an outage; retry later.
//   - access denied: EUNAVAILABLE too. The caller did nothing wrong and
//     can do nothing about it, and a retry succeeds once an operator
//     mends the user or its grants; INTERNAL would tell clients the
//     facade is broken, and make each request a line in the log.
//   - schema wrong: EINTERNAL, as any unexpected failure: a facade over
//     a database without the legacy tables is broken, not busy.
//
// A caller that went away (context.Canceled) is unavailable as well, but
// says nothing of the database.
func (s *Store) classify(err error, what string) error {
	if err == nil {
		return nil
	}
	if domain.Code(err) != domain.EINTERNAL {
		return err
	}
	fe := diagnose(err)
	if fe == nil {
		if errors.Is(err, context.Canceled) {
			return domain.Wrap(domain.EUNAVAILABLE, fmt.Errorf("%s: %w", what, err), "the database is unavailable")
		}
		return domain.Wrap(domain.EINTERNAL, fmt.Errorf("%s: %w", what, err), "internal error")
	}
	cause := fmt.Errorf("%s: %w", what, fe)
	if fe.Fault == SchemaWrong {
		return domain.Wrap(domain.EINTERNAL, cause, "internal error")
	}
	return domain.Wrap(domain.EUNAVAILABLE, cause, "the database is unavailable")
}
