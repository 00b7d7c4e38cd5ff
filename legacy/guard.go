package legacy

import (
	"net/http"
	"time"

	"opfacade/httpguard"
)

// Protect puts the HTTP-level guards in front of next, the handler with
// its middlewares: a panic anywhere in it answers 系统错误 (code 500) and
// logs its stack; the body is read before the work starts, so a slow
// client spends the server's read timeout and not the work's, and a body
// that cannot be read is 参数错误; and the work is bounded by timeout,
// past which the client gets 服务繁忙 (code 503) without waiting for the
// database.
func (h *Handler) Protect(timeout time.Duration, next http.Handler) http.Handler {
	next = httpguard.Deadline(timeout, h.cfg.Log, h.answer(errUnavailable), next)
	next = httpguard.BufferBody(h.cfg.MaxBody, h.unreadable, next)
	return httpguard.Recover(h.cfg.Log, h.answer(errInternal), next)
}

func (h *Handler) answer(e apiError) httpguard.Answer {
	return func(w http.ResponseWriter, _ *http.Request) { h.write(w, e, nil) }
}

// unreadable answers a request whose body could not be read with the
// contract's first failing check: the method, then the body.
func (h *Handler) unreadable(w http.ResponseWriter, r *http.Request) {
	e := errParams.withReason("the body could not be read")
	if r.Method != http.MethodPost {
		e = errMethod
	}
	h.write(w, e, nil)
}
