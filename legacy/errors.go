package legacy

import (
	"opfacade/domain"
	"opfacade/httpguard"
)

// apiError is an outcome of the v2 API: the envelope's code and message,
// exactly the contract's Chinese strings.
type apiError struct {
	Code    int
	Message string
	// reason says in English what was wrong, for the log only (see
	// withReason).
	reason string
	// limit names the limit that refused the request, if one did, for
	// the operators' metrics (httpguard.Outcome.Limit).
	limit string
}

// The v2 API's error table (CONTRACT.md).
var (
	errParams      = apiError{Code: 400, Message: "参数错误"}
	errToken       = apiError{Code: 401, Message: "token无效或已过期"}
	errSign        = apiError{Code: 403, Message: "签名错误"}
	errForbidden   = apiError{Code: 403, Message: "无权查看该OP"}
	errNoStaff     = apiError{Code: 404, Message: "OP不存在"}
	errMethod      = apiError{Code: 405, Message: "请求方式错误"}
	errTooLarge    = apiError{Code: 413, Message: "请求过大"}.limitedBy(httpguard.LimitBody)
	errInternal    = apiError{Code: 500, Message: "系统错误"}
	errUnavailable = apiError{Code: 503, Message: "服务繁忙"}
	success        = apiError{Code: 200, Message: "成功"}
	domainToLegacy = map[domain.ErrorCode]apiError{
		domain.EUNAUTHENTICATED: errToken,
		domain.EFORBIDDEN:       errForbidden,
		domain.ENOTFOUND:        errNoStaff,
		domain.EINVALID:         errParams,
		domain.EUNAVAILABLE:     errUnavailable,
		domain.EINTERNAL:        errInternal,
	}
)

// A token or client over its share of the replica: the contract's answer
// for an overloaded service, which it is for that caller.
var (
	errTokenRateLimited  = errUnavailable.limitedBy(httpguard.LimitTokenRate)
	errClientRateLimited = errUnavailable.limitedBy(httpguard.LimitClientRate)
)

// fromDomain maps a domain error to the v2 error table: the one place
// this mapping lives.
func fromDomain(err error) apiError {
	if e, ok := domainToLegacy[domain.Code(err)]; ok {
		return e
	}
	return errInternal
}

// withReason is e with what was wrong, for the log. The contract lets a
// short reason follow the message after ": ", but ours are English and
// the consoles show the message to Chinese-speaking OPs: the message
// stays the contract's alone, and the reason goes to the log.
func (e apiError) withReason(reason string) apiError {
	e.reason = reason
	return e
}

// limitedBy is e given because the limit refused the request.
func (e apiError) limitedBy(limit string) apiError {
	e.limit = limit
	return e
}
