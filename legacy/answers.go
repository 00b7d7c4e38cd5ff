package legacy

import "opfacade/httpguard"

// Answers are the v2 envelopes for requests on the v2 path that this
// handler does not serve, for the code in front of it that refuses or
// cannot pass them on in the contract's terms (the migration's proxy to
// the old service): the contract's shape and messages, and cfg's foot.
// Each answers HTTP 200 with data null, as every v2 error does.
type Answers struct {
	// TooLarge is 413 请求过大: a body over the limit.
	TooLarge httpguard.Answer
	// Unreadable is 400 参数错误: a body that could not be read whole.
	Unreadable httpguard.Answer
	// Unavailable is 503 服务繁忙: the service behind is down or slow.
	Unavailable httpguard.Answer
	// Internal is 500 系统错误: anything unexpected (a panic).
	Internal httpguard.Answer
}

// NewAnswers returns the envelopes with cfg's foot (ServicePhone,
// HostName, Zone, Now); the other fields of cfg do not matter.
func NewAnswers(cfg Config) Answers {
	h := &Handler{cfg: cfg.withDefaults()}
	return Answers{
		TooLarge:    h.answer(errTooLarge),
		Unreadable:  h.answer(errParams),
		Unavailable: h.answer(errUnavailable),
		Internal:    h.answer(errInternal),
	}
}
