package migrate

import (
	"bytes"
	"net/http"
)

// answer is what a side answered receives.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// capture keeps an answer's status, Content-Type and body, the body up
// to max bytes: over is set, and nothing kept, past that.
type capture struct {
	max         int
	status      int
	contentType string
	body        bytes.Buffer
	over        bool
}

// started notes the status and Content-Type of the final answer (not of
// a 1xx one).
func (c *capture) started(code int, h http.Header) {
	if c.status == 0 && code >= 200 {
		c.status, c.contentType = code, h.Get("Content-Type")
	}
}

func (c *capture) keep(p []byte) {
	switch {
	case c.over:
	case c.body.Len()+len(p) > c.max:
		c.over = true
		c.body = bytes.Buffer{}
	default:
		c.body.Write(p)
	}
}

func (c *capture) answer() answer {
	return answer{status: c.status, contentType: c.contentType, body: c.body.Bytes()}
}

// tee writes an answer to the caller and keeps a copy.
type tee struct {
	http.ResponseWriter
	capture
}

func (t *tee) WriteHeader(code int) {
	t.started(code, t.ResponseWriter.Header())
	t.ResponseWriter.WriteHeader(code)
}

func (t *tee) Write(p []byte) (int, error) {
	t.started(http.StatusOK, t.ResponseWriter.Header())
	n, err := t.ResponseWriter.Write(p)
	t.keep(p[:n])
	return n, err
}

// Unwrap lets http.ResponseController flush the caller's connection.
func (t *tee) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// recorder keeps an answer that goes to no caller: the other side's.
type recorder struct {
	header http.Header
	capture
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) { r.started(code, r.header) }

func (r *recorder) Write(p []byte) (int, error) {
	r.started(http.StatusOK, r.header)
	r.keep(p)
	return len(p), nil
}

func (r *recorder) Flush() {}
