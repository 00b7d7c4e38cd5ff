package legacy

import "opfacade/domain"

// apiError is an outcome of the v2 API: the envelope's code and message.
type apiError struct {
	Code    int
	Message string
}

// The v2 API's error table (CONTRACT.md).
var (
	errParams      = apiError{400, "参数错误"}
	errToken       = apiError{401, "token无效或已过期"}
	errSign        = apiError{403, "签名错误"}
	errForbidden   = apiError{403, "无权查看该OP"}
	errNoStaff     = apiError{404, "OP不存在"}
	errMethod      = apiError{405, "请求方式错误"}
	errTooLarge    = apiError{413, "请求过大"}
	errInternal    = apiError{500, "系统错误"}
	errUnavailable = apiError{503, "服务繁忙"}
	success        = apiError{200, "成功"}
	domainToLegacy = map[domain.ErrorCode]apiError{
		domain.EUNAUTHENTICATED: errToken,
		domain.EFORBIDDEN:       errForbidden,
		domain.ENOTFOUND:        errNoStaff,
		domain.EINVALID:         errParams,
		domain.EUNAVAILABLE:     errUnavailable,
		domain.EINTERNAL:        errInternal,
	}
)

// fromDomain maps a domain error to the v2 error table: the one place
// this mapping lives.
func fromDomain(err error) apiError {
	if e, ok := domainToLegacy[domain.Code(err)]; ok {
		return e
	}
	return errInternal
}

// withReason appends a short reason to a 参数错误 message.
func (e apiError) withReason(reason string) apiError {
	e.Message += ": " + reason
	return e
}
