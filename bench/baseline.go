package main

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/mattn/go-sqlite3"

	"opfacade/app"
	"opfacade/datetime"
	"opfacade/store"
)

// The baseline is the yardstick: the same data over the same database,
// written by hand with net/http and database/sql — no GraphQL, no sqlx,
// no dataloaders, no reflection. It is meant to be the fastest plain
// handler a careful engineer writes for these two endpoints:
//
//   - statements prepared once: token → staff, the OP's chats joined with
//     their users, the users' grades over the user ids just read (bound,
//     not selected again; one prepared text per power of two of ids), and
//     the legacy path's client;
//   - the store's SQLite settings (its DSN: WAL, busy timeout; its driver,
//     store.SQLiteDriver: the pragmas for mmap and the page cache, the C
//     heap kept, each statement's plan kept whatever is bound) and its
//     pool size; over MySQL, its pool size;
//   - DATETIMEs read as text and parsed in the one layout the platform
//     writes (package datetime, as the store does), where the SQLite
//     driver would try layouts one by one; on the legacy path, passed
//     through as read;
//   - the answer appended to a pooled buffer as JSON, written once;
//   - over SQLite, statements that database/sql does not watch (see
//     statementContext), as the store's are not.
const (
	baseTokenSQL = `SELECT s.staff_id, s.staff_name, s.online, s.role, CAST(t.expire_time AS CHAR)
FROM op_token t JOIN op_staff s ON s.staff_id = t.staff_id
WHERE t.token = ?`
	baseChatsSQL = `SELECT c.chat_id, c.user_id, c.group_id, c.title, c.status, c.address, c.last_message, CAST(c.create_time AS CHAR),
 u.nick_name, u.icon_url
FROM op_chat c LEFT JOIN app_user u ON u.user_id = c.user_id
WHERE c.staff_id = ? AND c.status = 'Service'
ORDER BY c.create_time DESC, c.chat_id ASC`
	// %[1]s is the IN list of user ids.
	baseGradesSQL = `SELECT user_id, 0, COUNT(*) FROM op_chat WHERE user_id IN (%[1]s) GROUP BY user_id
UNION ALL SELECT user_id, 1, COUNT(*) FROM user_order WHERE user_id IN (%[1]s) GROUP BY user_id
UNION ALL SELECT user_id, 2, COUNT(*) FROM service_order WHERE user_id IN (%[1]s) GROUP BY user_id`
	baseClientSQL = `SELECT client_secret, enabled FROM api_client WHERE client_id = ?`
	// baseMaxIn bounds one grades statement's ids, as the store does.
	baseMaxIn = 1024
	// baseMySQLPool is the store's MySQL pool size.
	baseMySQLPool = 32
)

// baseline serves POST /query (the GraphQL answer's shape) and
// POST /op/v2/receives (the legacy envelope).
type baseline struct {
	db                              *sql.DB
	mysql                           bool
	zone                            *time.Location
	defaultIcon, servicePhone, host string
	tokenSt, chatsSt, clientSt      *sql.Stmt
	statements                      atomic.Int64

	mu       sync.Mutex
	gradesSt map[int]*sql.Stmt // by the padded number of ids
	bufs     sync.Pool         // *[]byte
}

// newBaseline opens db: a SQLite file, or a mysql:// DSN as the facade's -db takes it.
func newBaseline(ctx context.Context, db string, zone *time.Location, host string) (*baseline, error) {
	b := &baseline{zone: zone, defaultIcon: app.DefaultIcon, servicePhone: app.ServicePhone, host: host, gradesSt: map[int]*sql.Stmt{}}
	var err error
	if b.db, b.mysql, err = openBaseDB(db); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&b.tokenSt, baseTokenSQL}, {&b.chatsSt, b.bytewiseOrder(baseChatsSQL)}, {&b.clientSt, baseClientSQL}} {
		if *p.st, err = b.db.PrepareContext(ctx, p.sql); err != nil {
			_ = b.db.Close()
			return nil, err
		}
	}
	return b, nil
}

// openBaseDB opens the database with the facade's settings for its
// engine: the same pool, and for SQLite the same DSN and pragmas.
func openBaseDB(db string) (*sql.DB, bool, error) {
	if rest, ok := strings.CutPrefix(db, "mysql://"); ok {
		cfg, err := mysql.ParseDSN(rest)
		if err != nil {
			return nil, false, err
		}
		cfg.ParseTime = false // DATETIMEs are read as text
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, false, err
		}
		d := sql.OpenDB(conn)
		d.SetMaxOpenConns(baseMySQLPool)
		d.SetMaxIdleConns(baseMySQLPool)
		return d, true, nil
	}
	dsn, err := store.SQLiteDSN(db)
	if err != nil {
		return nil, false, err
	}
	drv, err := store.SQLiteDriver()
	if err != nil {
		return nil, false, err
	}
	d := sql.OpenDB(sqliteConnector{dsn: dsn, driver: drv})
	d.SetMaxOpenConns(sqlitePool())
	d.SetMaxIdleConns(sqlitePool())
	return d, false, nil
}

type sqliteConnector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c sqliteConnector) Driver() driver.Driver                        { return c.driver }

// bytewiseOrder makes MySQL order chat ids by their bytes, as SQLite does.
func (b *baseline) bytewiseOrder(q string) string {
	if b.mysql {
		return strings.Replace(q, "c.chat_id ASC", "CAST(c.chat_id AS BINARY) ASC", 1)
	}
	return q
}

func (b *baseline) Close() error { return b.db.Close() }

// statementContext is the context the baseline's statements run under.
// database/sql starts a goroutine for every statement whose context can
// end, which the facade's store spares (see store/detach.go). Over SQLite
// the baseline runs its statements under a context that does not end
// (they run to the end when the client leaves, which the store's would
// not). Over MySQL it hands them the request's context, as plain code
// must for the driver to cut off a statement a hung server does not
// answer, and database/sql watches it too.
func (b *baseline) statementContext(ctx context.Context) context.Context {
	if b.mysql {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

func (b *baseline) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /query", b.serveQuery)
	mux.HandleFunc("/op/v2/receives", b.serveReceives)
	return mux
}

type baseStaff struct {
	ID, Name, Role string
	IsOnline       bool
}

type baseGrade struct{ ChatCount, OrderCount, ServiceCount int }

type baseChat struct {
	ID, UserID, GroupID, Title, Status, Address, Message string
	Created                                              string // as stored: yyyy-MM-dd HH:mm:ss
	NickName                                             sql.NullString
	Icon                                                 string
}

var errUnauthenticated = errors.New("invalid or expired token")

// staff is the OP whose token this is.
func (b *baseline) staff(ctx context.Context, token string) (baseStaff, error) {
	var s baseStaff
	var online int
	var expire string
	b.statements.Add(1)
	err := b.tokenSt.QueryRowContext(ctx, token).Scan(&s.ID, &s.Name, &online, &s.Role, &expire)
	if errors.Is(err, sql.ErrNoRows) {
		return s, errUnauthenticated
	}
	if err != nil {
		return s, err
	}
	if t, err := b.wall(expire); err != nil || time.Now().After(t) {
		return s, errUnauthenticated
	}
	s.IsOnline = online != 0
	if s.Role != "ADMIN" {
		s.Role = "OP"
	}
	return s, nil
}

// chats reads the OP's chats in service with their users, then the
// users' grades: two statements.
func (b *baseline) chats(ctx context.Context, staffID string) ([]baseChat, map[string]*baseGrade, error) {
	b.statements.Add(1)
	rows, err := b.chatsSt.QueryContext(ctx, staffID)
	if err != nil {
		return nil, nil, err
	}
	var chats []baseChat
	var c baseChat // declared once: Scan's pointers move them to the heap
	var icon sql.NullString
	for rows.Next() {
		if err := rows.Scan(&c.ID, &c.UserID, &c.GroupID, &c.Title, &c.Status, &c.Address, &c.Message, &c.Created, &c.NickName, &icon); err != nil {
			_ = rows.Close()
			return nil, nil, err
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
	ids := make([]string, 0, len(chats))
	for _, c := range chats {
		if grades[c.UserID] == nil {
			grades[c.UserID] = &baseGrade{}
			ids = append(ids, c.UserID)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), baseMaxIn)
		if err := b.grades(ctx, ids[:n], grades); err != nil {
			return nil, nil, err
		}
		ids = ids[n:]
	}
	return chats, grades, nil
}

// grades adds the counts of ids (at most baseMaxIn) to out.
func (b *baseline) grades(ctx context.Context, ids []string, out map[string]*baseGrade) error {
	n := 1
	for n < len(ids) {
		n *= 2
	}
	st, err := b.gradesStmt(ctx, n)
	if err != nil {
		return err
	}
	// SQLite numbers its parameters, so each id is bound once for the
	// three arms; MySQL's are positional, bound once per arm.
	arms := 3
	if !b.mysql {
		arms = 1
	}
	args := make([]any, 0, arms*n)
	for range arms {
		for i := range n {
			args = append(args, ids[min(i, len(ids)-1)])
		}
	}
	b.statements.Add(1)
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var user string // declared once: Scan's pointers move them to the heap
	var kind, count int
	for rows.Next() {
		if err := rows.Scan(&user, &kind, &count); err != nil {
			return err
		}
		g := out[user]
		if g == nil {
			continue
		}
		switch kind {
		case 0:
			g.ChatCount = count
		case 1:
			g.OrderCount = count
		case 2:
			g.ServiceCount = count
		}
	}
	return rows.Err()
}

// gradesStmt is the grades statement for n ids, prepared once.
func (b *baseline) gradesStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st := b.gradesSt[n]; st != nil {
		return st, nil
	}
	marks := make([]string, n)
	for i := range marks {
		marks[i] = "?"
		if !b.mysql {
			marks[i] = fmt.Sprintf("?%d", i+1)
		}
	}
	st, err := b.db.PrepareContext(ctx, fmt.Sprintf(baseGradesSQL, strings.Join(marks, ",")))
	if err != nil {
		return nil, err
	}
	b.gradesSt[n] = st
	return st, nil
}

// wall reads a stored DATETIME as the platform's wall clock.
func (b *baseline) wall(s string) (time.Time, error) {
	return datetime.Parse(s, b.zone)
}

func (b *baseline) buffer() *[]byte {
	if p, ok := b.bufs.Get().(*[]byte); ok {
		*p = (*p)[:0]
		return p
	}
	p := make([]byte, 0, 16<<10)
	return &p
}

// send writes buf as the answer and keeps it for the next one.
func (b *baseline) send(w http.ResponseWriter, contentType string, buf *[]byte) {
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(*buf)
	b.bufs.Put(buf)
}

// serveQuery answers what the facade answers to benchQuery.
func (b *baseline) serveQuery(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		http.Error(w, "a bearer token is required", http.StatusUnauthorized)
		return
	}
	ctx := b.statementContext(r.Context())
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
	buf := b.buffer()
	o := *buf
	staff := appendBaseStaff(make([]byte, 0, 128), me)
	o = append(o, `{"data":{"me":`...)
	o = append(o, staff[:len(staff)-1]...) // the OP's object, left open for its chats
	o = append(o, `,"chats":[`...)
	for i, c := range chats {
		if i > 0 {
			o = append(o, ',')
		}
		t, err := b.wall(c.Created)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		g := grades[c.UserID]
		o = append(o, `{"id":`...)
		o = appendJSONString(o, c.ID)
		o = append(o, `,"groupId":`...)
		o = appendJSONString(o, c.GroupID)
		o = append(o, `,"title":`...)
		o = appendJSONString(o, c.Title)
		o = append(o, `,"status":"SERVICE","storedStatus":`...)
		o = appendJSONString(o, c.Status)
		o = append(o, `,"address":`...)
		o = appendJSONString(o, c.Address)
		o = append(o, `,"message":`...)
		o = appendJSONString(o, c.Message)
		o = append(o, `,"createTime":"`...)
		o = t.AppendFormat(o, time.RFC3339)
		o = append(o, `","user":{"id":`...)
		o = appendJSONString(o, c.UserID)
		o = append(o, `,"nickName":`...)
		o = appendNullString(o, c.NickName)
		o = append(o, `,"icon":`...)
		o = appendJSONString(o, c.Icon)
		o = append(o, `,"grade":`...)
		o = appendBaseGrade(o, g, "chatCount", "orderCount", "serviceCount")
		o = append(o, `},"staff":`...)
		o = append(o, staff...)
		o = append(o, '}')
	}
	o = append(o, "]}}}"...)
	*buf = o
	b.send(w, "application/json", buf)
}

func appendBaseStaff(o []byte, s baseStaff) []byte {
	o = append(o, `{"id":`...)
	o = appendJSONString(o, s.ID)
	o = append(o, `,"name":`...)
	o = appendJSONString(o, s.Name)
	o = append(o, `,"role":`...)
	o = appendJSONString(o, s.Role)
	o = append(o, `,"isOnline":`...)
	o = strconvAppendBool(o, s.IsOnline)
	return append(o, '}')
}

// appendBaseGrade writes g's counts under the three names given.
func appendBaseGrade(o []byte, g *baseGrade, chats, orders, services string) []byte {
	for i, f := range []struct {
		name string
		n    int
	}{{chats, g.ChatCount}, {orders, g.OrderCount}, {services, g.ServiceCount}} {
		if i == 0 {
			o = append(o, '{')
		} else {
			o = append(o, ',')
		}
		o = append(o, '"')
		o = append(o, f.name...)
		o = append(o, `":`...)
		o = strconvAppendInt(o, f.n)
	}
	return append(o, '}')
}

// serveReceives answers the legacy v2 call for the caller's own chats.
func (b *baseline) serveReceives(w http.ResponseWriter, r *http.Request) {
	ctx := b.statementContext(r.Context())
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
	b.envelope(w, 200, "成功", func(o []byte) []byte {
		o = append(o, `{"isOnline":`...)
		o = strconvAppendBool(o, me.IsOnline)
		o = append(o, `,"chats":[`...)
		for i, c := range chats {
			if i > 0 {
				o = append(o, ',')
			}
			o = append(o, `{"userId":`...)
			o = appendJSONString(o, c.UserID)
			o = append(o, `,"userIcon":`...)
			o = appendJSONString(o, c.Icon)
			o = append(o, `,"chatId":`...)
			o = appendJSONString(o, c.ID)
			o = append(o, `,"nickName":`...)
			o = appendNullString(o, c.NickName)
			o = append(o, `,"message":`...)
			o = appendJSONString(o, c.Message)
			o = append(o, `,"groupId":`...)
			o = appendJSONString(o, c.GroupID)
			o = append(o, `,"title":`...)
			o = appendJSONString(o, c.Title)
			o = append(o, `,"status":`...)
			o = appendJSONString(o, c.Status)
			o = append(o, `,"address":`...)
			o = appendJSONString(o, c.Address)
			o = append(o, `,"createTime":`...)
			o = appendJSONString(o, c.Created)
			g := grades[c.UserID]
			o = append(o, `,"userGradeChatCount":`...)
			o = strconvAppendInt(o, g.ChatCount)
			o = append(o, `,"userGradeOrderCount":`...)
			o = strconvAppendInt(o, g.OrderCount)
			o = append(o, `,"userGradeServiceCount":`...)
			o = strconvAppendInt(o, g.ServiceCount)
			o = append(o, '}')
		}
		return append(o, "]}"...)
	})
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

// envelope writes the legacy envelope; data appends the data member's
// value, nil for null.
func (b *baseline) envelope(w http.ResponseWriter, code int, message string, data func([]byte) []byte) {
	buf := b.buffer()
	o := append(*buf, `{"code":`...)
	o = strconvAppendInt(o, code)
	o = append(o, `,"message":`...)
	o = appendJSONString(o, message)
	o = append(o, `,"data":`...)
	if data == nil {
		o = append(o, "null"...)
	} else {
		o = data(o)
	}
	o = append(o, `,"page":null,"foot":{"operationTime":"`...)
	o = datetime.Append(o, time.Now().In(b.zone))
	o = append(o, `","servicePhone":`...)
	o = appendJSONString(o, b.servicePhone)
	o = append(o, `,"host":`...)
	o = appendJSONString(o, b.host)
	*buf = append(o, "}}"...)
	b.send(w, "application/json;charset=UTF-8", buf)
}
