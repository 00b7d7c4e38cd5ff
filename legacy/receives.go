package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"opfacade/httpguard"
	"opfacade/model"
	"opfacade/tracing"
)

// The shapes of the v2 response. Member names, nulls and number formats
// are the contract's; legacy apps read them byte by byte.
type (
	envelope struct {
		Code    int           `json:"code"`
		Message string        `json:"message"`
		Data    *receivesData `json:"data"`
		Page    *struct{}     `json:"page"` // always null for this call
		Foot    foot          `json:"foot"`
	}
	foot struct {
		OperationTime string `json:"operationTime"`
		ServicePhone  string `json:"servicePhone"`
		Host          string `json:"host"`
	}
	receivesData struct {
		IsOnline bool   `json:"isOnline"`
		Chats    []chat `json:"chats"` // [] when none, never null
	}
	chat struct {
		UserID                string  `json:"userId"`
		UserIcon              string  `json:"userIcon"`
		ChatID                string  `json:"chatId"`
		NickName              *string `json:"nickName"`
		Message               string  `json:"message"`
		GroupID               string  `json:"groupId"`
		Title                 string  `json:"title"`
		Status                string  `json:"status"`
		Address               string  `json:"address"`
		CreateTime            string  `json:"createTime"`
		UserGradeChatCount    int     `json:"userGradeChatCount"`
		UserGradeOrderCount   int     `json:"userGradeOrderCount"`
		UserGradeServiceCount int     `json:"userGradeServiceCount"`
	}
)

// receives renders what the resolvers answer for the GraphQL operation
// staff(id: $staffID) { isOnline chats(status: [SERVICE]) { … user {
// … grade { … } } } }, called as gqlgen's executor calls them.
func (h *Handler) receives(ctx context.Context, staffID string) (*receivesData, *apiError) {
	sctx, span := tracing.Start(ctx, h.cfg.Tracer, "Query.staff")
	staff, err := h.cfg.Resolvers.StaffByID(sctx, staffID)
	endResolverSpan(span, err)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	if staff == nil {
		return nil, &errNoStaff
	}
	sctx, span = tracing.Start(ctx, h.cfg.Tracer, "Staff.chats")
	chats, err := h.cfg.Resolvers.Chats(sctx, staff, []model.ChatStatus{model.ChatStatusService}, true)
	endResolverSpan(span, err)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	data := &receivesData{IsOnline: staff.IsOnline, Chats: make([]chat, len(chats))}
	for i, c := range chats {
		data.Chats[i] = receivesChat(c)
	}
	return data, nil
}

// receivesChat is a chat in the v2 shape. Every chat the resolver lists
// has its user, and the user their grade, as asked.
func receivesChat(c model.Chat) chat {
	return chat{
		UserID:                c.User.ID,
		UserIcon:              c.User.Icon,
		ChatID:                c.ID,
		NickName:              c.User.NickName,
		Message:               c.Message,
		GroupID:               c.GroupID,
		Title:                 c.Title,
		Status:                c.StoredStatus,
		Address:               c.Address,
		CreateTime:            c.CreateTime.Format(time.DateTime), // yyyy-MM-dd HH:mm:ss in its own offset: the stored wall clock
		UserGradeChatCount:    c.User.Grade.ChatCount,
		UserGradeOrderCount:   c.User.Grade.OrderCount,
		UserGradeServiceCount: c.User.Grade.ServiceCount,
	}
}

// write sends the envelope: always HTTP 200, the outcome in code; UTF-8 as
// is and &, <, > unescaped, as legacy apps compare and cut URLs as text.
func (h *Handler) write(w http.ResponseWriter, outcome apiError, data *receivesData) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(envelope{
		Code:    outcome.Code,
		Message: outcome.Message,
		Data:    data,
		Foot: foot{
			OperationTime: h.cfg.Now().In(h.cfg.Zone).Format(time.DateTime),
			ServicePhone:  h.cfg.ServicePhone,
			Host:          h.cfg.HostName,
		},
	})
	httpguard.SetOutcome(w, httpguard.Outcome{Num: outcome.Code, Limit: outcome.limit})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
