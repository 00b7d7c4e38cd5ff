package legacy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
)

// readParams collects the request's parameters from the query string and
// body, the body as the guard read it (form or JSON object); a name in
// the body wins over the same name in the query string.
func readParams(r *http.Request, body []byte) (map[string]string, *apiError) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		e := errParams.withReason("malformed query string")
		return nil, &e
	}
	params := first(query)
	fromBody, perr := parseBody(r.Header.Get("Content-Type"), body)
	if perr != nil {
		return nil, perr
	}
	for k, v := range fromBody {
		params[k] = v
	}
	return params, nil
}

func parseBody(contentType string, body []byte) (map[string]string, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			e := errParams.withReason("malformed form body")
			return nil, &e
		}
		return first(form), nil
	case "application/json":
		return parseJSON(body)
	default:
		e := errParams.withReason(fmt.Sprintf("unsupported Content-Type %q", mediaType))
		return nil, &e
	}
}

// parseJSON reads a JSON object whose members are strings (or null, which
// counts as absent).
func parseJSON(body []byte) (map[string]string, *apiError) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		e := errParams.withReason("the body is not a JSON object")
		return nil, &e
	}
	out := make(map[string]string, len(members))
	for k, raw := range members {
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			e := errParams.withReason(k + " must be a string")
			return nil, &e
		}
		if s != nil {
			out[k] = *s
		}
	}
	return out, nil
}

// first keeps the first value of each name.
func first(v url.Values) map[string]string {
	out := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}
