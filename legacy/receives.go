package legacy

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"opfacade/datetime"
	"opfacade/httpguard"
	"opfacade/model"
)

// receivesData is what a successful call renders: the OP's status and
// their chats in service, as the resolvers return them.
type receivesData struct {
	isOnline bool
	chats    []model.Chat
}

// receives renders what the resolvers answer for the GraphQL operation
// staff(id: $staffID) { isOnline chats(status: [SERVICE]) { … user {
// … grade { … } } } }, called as gqlgen's executor calls them.
func (h *Handler) receives(ctx context.Context, staffID string) (*receivesData, *apiError) {
	// Query.staff gets no span, as the GraphQL operation's one root field
	// gets none (see tracing.GraphQL): its span would be the work's.
	staff, err := h.cfg.Resolvers.StaffByID(ctx, staffID)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	if staff == nil {
		return nil, &errNoStaff
	}
	// The resolver gives itself its span, Staff.chats.
	chats, err := h.cfg.Resolvers.Chats(ctx, staff, []model.ChatStatus{model.ChatStatusService}, true)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &receivesData{isOnline: staff.IsOnline, chats: chats}, nil
}

// write sends the envelope: always HTTP 200, the outcome in code; UTF-8 as
// is and &, <, > unescaped, as legacy apps compare and cut URLs as text.
// Member names, nulls and number formats are the contract's; legacy apps
// read them byte by byte.
func (h *Handler) write(w http.ResponseWriter, outcome apiError, data *receivesData) {
	buf := h.answerBuffer()
	defer h.keepAnswerBuffer(buf)
	b := slices.Grow((*buf)[:0], envelopeSize(data))
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(outcome.Code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, outcome.Message)
	b = append(b, `,"data":`...)
	b = appendData(b, data)
	b = append(b, `,"page":null,"foot":{"operationTime":"`...) // page: always null for this call
	b = datetime.Append(b, h.cfg.Now().In(h.cfg.Zone))
	b = append(b, `","servicePhone":`...)
	b = appendString(b, h.cfg.ServicePhone)
	b = append(b, `,"host":`...)
	b = appendString(b, h.cfg.HostName)
	b = append(b, "}}"...)
	httpguard.SetOutcome(w, httpguard.Outcome{Num: outcome.Code, Limit: outcome.limit})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	*buf = b
}

// maxKeptAnswer bounds the envelope buffers kept for the next call: an OP
// with this many bytes of chats is rare, and their buffer not worth
// holding.
const maxKeptAnswer = 1 << 20

// answerBuffer is a buffer for an envelope: one kept from an earlier
// call, so that a call does not allocate and clear its envelope's dozen
// kilobytes. Write copies what it is given (io.Writer's contract), so the
// buffer is free again once written.
func (h *Handler) answerBuffer() *[]byte {
	if b, ok := h.answers.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

func (h *Handler) keepAnswerBuffer(b *[]byte) {
	if cap(*b) <= maxKeptAnswer {
		h.answers.Put(b)
	}
}

// envelopeSize is about the bytes of an envelope with data, so that it
// is written in one allocation.
func envelopeSize(data *receivesData) int {
	if data == nil {
		return 256
	}
	return 256 + 640*len(data.chats)
}

// appendData writes the data member: null, or the OP's status and chats.
// Every chat the resolver lists has its user, and the user their grade,
// as asked.
func appendData(b []byte, data *receivesData) []byte {
	if data == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"isOnline":`...)
	b = strconv.AppendBool(b, data.isOnline)
	b = append(b, `,"chats":[`...) // [] when none, never null
	for i := range data.chats {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendChat(b, &data.chats[i])
	}
	return append(b, "]}"...)
}

func appendChat(b []byte, c *model.Chat) []byte {
	b = append(b, `{"userId":`...)
	b = appendString(b, c.User.ID)
	b = append(b, `,"userIcon":`...)
	b = appendString(b, c.User.Icon)
	b = append(b, `,"chatId":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"nickName":`...)
	if c.User.NickName == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *c.User.NickName)
	}
	b = append(b, `,"message":`...)
	b = appendString(b, c.Message)
	b = append(b, `,"groupId":`...)
	b = appendString(b, c.GroupID)
	b = append(b, `,"title":`...)
	b = appendString(b, c.Title)
	b = append(b, `,"status":`...)
	b = appendString(b, c.StoredStatus)
	b = append(b, `,"address":`...)
	b = appendString(b, c.Address)
	b = append(b, `,"createTime":"`...)
	b = datetime.Append(b, c.CreateTime) // yyyy-MM-dd HH:mm:ss in its own offset: the stored wall clock
	b = append(b, `","userGradeChatCount":`...)
	b = strconv.AppendInt(b, int64(c.User.Grade.ChatCount), 10)
	b = append(b, `,"userGradeOrderCount":`...)
	b = strconv.AppendInt(b, int64(c.User.Grade.OrderCount), 10)
	b = append(b, `,"userGradeServiceCount":`...)
	b = strconv.AppendInt(b, int64(c.User.Grade.ServiceCount), 10)
	return append(b, '}')
}
