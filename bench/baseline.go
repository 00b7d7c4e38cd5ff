package main

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"opfacade/app"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3"
)

// The baseline is the yardstick: the same data over the same database
// file, written by hand with net/http, database/sql and encoding/json — no
// GraphQL, no sqlx, no dataloaders. It is meant to be what a careful
// engineer writes for these two endpoints and nothing more: three
// statements prepared once (token → staff, chats joined with users, the
// users' grades), a fourth for the legacy path's client, and structs
// encoded as they are.

const (
	baseTokenSQL = `SELECT s.staff_id, s.staff_name, s.online, s.role, t.expire_time
FROM op_token t JOIN op_staff s ON s.staff_id = t.staff_id
WHERE t.token = ?`
	baseChatsSQL = `SELECT c.chat_id, c.user_id, c.group_id, c.title, c.status, c.address, c.last_message, c.create_time,
 u.nick_name, u.icon_url
FROM op_chat c LEFT JOIN app_user u ON u.user_id = c.user_id
WHERE c.staff_id = ? AND c.status = 'Service'
ORDER BY c.create_time DESC, c.chat_id ASC`
	// The grades of the users of the OP's chats in service: a fixed
	// statement, so it is prepared once whatever the number of chats.
	baseGradesSQL = `SELECT user_id, 0, COUNT(*) FROM op_chat WHERE user_id IN (SELECT user_id FROM op_chat WHERE staff_id = ?1 AND status = 'Service') GROUP BY user_id
UNION ALL SELECT user_id, 1, COUNT(*) FROM user_order WHERE user_id IN (SELECT user_id FROM op_chat WHERE staff_id = ?1 AND status = 'Service') GROUP BY user_id
UNION ALL SELECT user_id, 2, COUNT(*) FROM service_order WHERE user_id IN (SELECT user_id FROM op_chat WHERE staff_id = ?1 AND status = 'Service') GROUP BY user_id`
	baseClientSQL = `SELECT client_secret, enabled FROM api_client WHERE client_id = ?`
)

// baseline serves GET/POST /query (the GraphQL answer's shape) and
// POST /op/v2/receives (the legacy envelope).
type baseline struct {
	db                                   *sql.DB
	zone                                 *time.Location
	defaultIcon, servicePhone, host      string
	tokenSt, chatsSt, gradesSt, clientSt *sql.Stmt
	statements                           atomic.Int64
}

func newBaseline(ctx context.Context, path string, zone *time.Location, host string) (*baseline, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	// The pool the facade gets on this machine by default.
	db.SetMaxOpenConns(sqlitePool())
	db.SetMaxIdleConns(sqlitePool())
	b := &baseline{db: db, zone: zone, defaultIcon: app.DefaultIcon, servicePhone: app.ServicePhone, host: host}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&b.tokenSt, baseTokenSQL}, {&b.chatsSt, baseChatsSQL}, {&b.gradesSt, baseGradesSQL}, {&b.clientSt, baseClientSQL}} {
		if *p.st, err = db.PrepareContext(ctx, p.sql); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return b, nil
}

func (b *baseline) Close() error { return b.db.Close() }

func (b *baseline) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /query", b.serveQuery)
	mux.HandleFunc("/op/v2/receives", b.serveReceives)
	return mux
}

type baseStaff struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	IsOnline bool   `json:"isOnline"`
}

type baseGrade struct {
	ChatCount    int `json:"chatCount"`
	OrderCount   int `json:"orderCount"`
	ServiceCount int `json:"serviceCount"`
}

type baseChat struct {
	ID, UserID, GroupID, Title, Status, Address, Message string
	Created                                              time.Time
	NickName                                             *string
	Icon                                                 string
}

var errUnauthenticated = errors.New("invalid or expired token")

// staff is the OP whose token this is.
func (b *baseline) staff(ctx context.Context, token string) (baseStaff, error) {
	var s baseStaff
	var online int
	var expire time.Time
	b.statements.Add(1)
	err := b.tokenSt.QueryRowContext(ctx, token).Scan(&s.ID, &s.Name, &online, &s.Role, &expire)
	if errors.Is(err, sql.ErrNoRows) {
		return s, errUnauthenticated
	}
	if err != nil {
		return s, err
	}
	if time.Now().After(b.wall(expire)) {
		return s, errUnauthenticated
	}
	s.IsOnline = online != 0
	if s.Role != "ADMIN" {
		s.Role = "OP"
	}
	return s, nil
}

// chats reads the OP's chats in service with their users, and the users'
// grades: two statements.
func (b *baseline) chats(ctx context.Context, staffID string) ([]baseChat, map[string]*baseGrade, error) {
	b.statements.Add(1)
	rows, err := b.chatsSt.QueryContext(ctx, staffID)
	if err != nil {
		return nil, nil, err
	}
	var chats []baseChat
	for rows.Next() {
		var c baseChat
		var nick, icon sql.NullString
		if err := rows.Scan(&c.ID, &c.UserID, &c.GroupID, &c.Title, &c.Status, &c.Address, &c.Message, &c.Created, &nick, &icon); err != nil {
			_ = rows.Close()
			return nil, nil, err
		}
		if nick.Valid {
			c.NickName = &nick.String
		}
		c.Icon = icon.String
		if c.Icon == "" {
			c.Icon = b.defaultIcon
		}
		chats = append(chats, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	grades := make(map[string]*baseGrade, len(chats))
	for _, c := range chats {
		grades[c.UserID] = &baseGrade{}
	}
	if len(chats) == 0 {
		return chats, grades, nil
	}
	b.statements.Add(1)
	rows, err = b.gradesSt.QueryContext(ctx, staffID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var kind, n int
		if err := rows.Scan(&user, &kind, &n); err != nil {
			return nil, nil, err
		}
		g := grades[user]
		if g == nil {
			continue
		}
		switch kind {
		case 0:
			g.ChatCount = n
		case 1:
			g.OrderCount = n
		case 2:
			g.ServiceCount = n
		}
	}
	return chats, grades, rows.Err()
}

// wall reads a stored DATETIME (the driver's UTC) as the platform's wall clock.
func (b *baseline) wall(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), b.zone)
}

// serveQuery answers what the facade answers to benchQuery.
func (b *baseline) serveQuery(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		http.Error(w, "a bearer token is required", http.StatusUnauthorized)
		return
	}
	ctx := r.Context()
	me, err := b.staff(ctx, token)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	chats, grades, err := b.chats(ctx, me.ID)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	type user struct {
		ID       string     `json:"id"`
		NickName *string    `json:"nickName"`
		Icon     string     `json:"icon"`
		Grade    *baseGrade `json:"grade"`
	}
	type chat struct {
		ID           string     `json:"id"`
		GroupID      string     `json:"groupId"`
		Title        string     `json:"title"`
		Status       string     `json:"status"`
		StoredStatus string     `json:"storedStatus"`
		Address      string     `json:"address"`
		Message      string     `json:"message"`
		CreateTime   string     `json:"createTime"`
		User         user       `json:"user"`
		Staff        *baseStaff `json:"staff"`
	}
	type staff struct {
		baseStaff
		Chats []chat `json:"chats"`
	}
	var out struct {
		Data struct {
			Me staff `json:"me"`
		} `json:"data"`
	}
	out.Data.Me = staff{baseStaff: me, Chats: make([]chat, len(chats))}
	for i, c := range chats {
		out.Data.Me.Chats[i] = chat{
			ID: c.ID, GroupID: c.GroupID, Title: c.Title, Status: "SERVICE", StoredStatus: c.Status,
			Address: c.Address, Message: c.Message, CreateTime: b.wall(c.Created).Format(time.RFC3339),
			User:  user{ID: c.UserID, NickName: c.NickName, Icon: c.Icon, Grade: grades[c.UserID]},
			Staff: &me,
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&out)
}

// serveReceives answers the legacy v2 call for the caller's own chats.
func (b *baseline) serveReceives(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		b.envelope(w, 405, "请求方式错误", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		b.envelope(w, 400, "参数错误", nil)
		return
	}
	if v := r.Form.Get("apiVersion"); v != "" && v != "01" {
		b.envelope(w, 400, "参数错误", nil)
		return
	}
	if !b.signed(ctx, r) {
		b.envelope(w, 403, "签名错误", nil)
		return
	}
	me, err := b.staff(ctx, r.Form.Get("token"))
	if errors.Is(err, errUnauthenticated) {
		b.envelope(w, 401, "token无效或已过期", nil)
		return
	}
	if err != nil {
		b.envelope(w, 500, "系统错误", nil)
		return
	}
	chats, grades, err := b.chats(ctx, me.ID)
	if err != nil {
		b.envelope(w, 500, "系统错误", nil)
		return
	}
	type chat struct {
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
	data := struct {
		IsOnline bool   `json:"isOnline"`
		Chats    []chat `json:"chats"`
	}{IsOnline: me.IsOnline, Chats: make([]chat, len(chats))}
	for i, c := range chats {
		g := grades[c.UserID]
		data.Chats[i] = chat{
			UserID: c.UserID, UserIcon: c.Icon, ChatID: c.ID, NickName: c.NickName, Message: c.Message,
			GroupID: c.GroupID, Title: c.Title, Status: c.Status, Address: c.Address,
			CreateTime:         c.Created.Format(time.DateTime),
			UserGradeChatCount: g.ChatCount, UserGradeOrderCount: g.OrderCount, UserGradeServiceCount: g.ServiceCount,
		}
	}
	b.envelope(w, 200, "成功", data)
}

// signed checks the request's signature against its client's secret.
func (b *baseline) signed(ctx context.Context, r *http.Request) bool {
	var secret string
	var enabled int
	b.statements.Add(1)
	if err := b.clientSt.QueryRowContext(ctx, r.Form.Get("client")).Scan(&secret, &enabled); err != nil || enabled == 0 {
		return false
	}
	want := sign(r.Form, secret)
	got := strings.ToLower(r.Form.Get("sign"))
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// sign is the contract's signature of params: the MD5 of the sorted,
// non-empty name=value pairs but sign, joined by '&', then the secret.
func sign(params map[string][]string, secret string) string {
	names := make([]string, 0, len(params))
	for k, v := range params {
		if k != "sign" && len(v) > 0 && v[0] != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var sb strings.Builder
	for i, k := range names {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(params[k][0])
	}
	sb.WriteString(secret)
	sum := md5.Sum([]byte(sb.String()))
	return hex.EncodeToString(sum[:])
}

func (b *baseline) envelope(w http.ResponseWriter, code int, message string, data any) {
	out := struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data"`
		Page    any    `json:"page"`
		Foot    struct {
			OperationTime string `json:"operationTime"`
			ServicePhone  string `json:"servicePhone"`
			Host          string `json:"host"`
		} `json:"foot"`
	}{Code: code, Message: message, Data: data}
	out.Foot.OperationTime = time.Now().In(b.zone).Format(time.DateTime)
	out.Foot.ServicePhone = b.servicePhone
	out.Foot.Host = b.host
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(&out)
}
