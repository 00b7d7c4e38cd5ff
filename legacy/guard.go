package legacy

import (
	"net/http"

	"opfacade/httpguard"
)

// guarded puts the HTTP-level guards in front of the handler: a panic
// anywhere answers 系统错误 (code 500) and logs its stack; the body is
// read whole before the work starts, so a slow client spends the server's
// read timeout and not the work's (a body over the limit is 请求过大, one
// that cannot be read 参数错误); and the work, the request's context
// prepared, is bounded by the timeout, past which the client gets 服务繁忙
// (code 503) without waiting for the database.
func (h *Handler) guarded() http.Handler {
	next := httpguard.WithContext(h.cfg.Prepare, h)
	next = httpguard.Deadline(h.cfg.Timeout, h.cfg.Log, h.answer(errUnavailable), next)
	next = httpguard.ReadBody(h.cfg.MaxBody, h.refuseBody(errTooLarge), h.refuseBody(errParams.withReason("the body could not be read")), next)
	return httpguard.Recover(h.cfg.Log, h.answer(errInternal), next)
}

func (h *Handler) answer(e apiError) httpguard.Answer {
	return func(w http.ResponseWriter, _ *http.Request) { h.write(w, e, nil) }
}

// refuseBody answers a request whose body the guard refused with the
// contract's first failing check: the method, then the body.
func (h *Handler) refuseBody(e apiError) httpguard.Answer {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.write(w, errMethod, nil)
			return
		}
		h.refuse(w, r, e)
	}
}
