package legacydb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Sizes says how many rows Generate writes.
type Sizes struct {
	Staff                int // OPs, admins included
	Admins               int // of Staff, with role ADMIN; they serve no chats
	Users                int
	ServiceChatsPerStaff int // chats in service per OP: about this many (±25%)
	ClosedChatsPerStaff  int // closed chats per OP: about this many (±25%)
	WaitChats            int // chats waiting for an OP, with no staff_id
	Orders               int
	ServiceOrders        int
}

// DemoSizes is a small data set to look at by hand.
func DemoSizes() Sizes {
	return Sizes{Staff: 8, Admins: 1, Users: 60, ServiceChatsPerStaff: 5, ClosedChatsPerStaff: 6,
		WaitChats: 5, Orders: 150, ServiceOrders: 60}
}

// BenchSizes is a production-like volume for benchmarks.
func BenchSizes() Sizes {
	return Sizes{Staff: 1000, Admins: 5, Users: 100_000, ServiceChatsPerStaff: 20, ClosedChatsPerStaff: 100,
		WaitChats: 2000, Orders: 1_000_000, ServiceOrders: 300_000}
}

// The api_client rows Generate writes: one that may call, one disabled.
const (
	DemoClientID     = "demo0000000000000000000000000001"
	DemoClientSecret = "demo0000000000000000000000secret"
	DisabledClientID = "demo000000000000000000000000dead"
	disabledSecret   = "00000000000000000000000000000000"
)

// What makes the data realistic, and awkward where the legacy data is.
const (
	tokenLiveUntil     = "2099-12-31 23:59:59"
	tokenExpiredAt     = "2015-12-31 23:59:59"
	unknownChatStatus  = "Transfer" // a status the legacy contract does not list
	orphanEvery        = 40         // one chat in service in this many has no app_user row
	tieEvery           = 10         // one OP in this many has two chats in service created in the same second
	transferChatsPerOP = 200        // one 'Transfer' chat per this many OPs (at least one)
)

// Generated tells a caller what Generate wrote.
type Generated struct {
	ClientID, ClientSecret string // the enabled demo client
	DisabledClientID       string
	Staff                  []StaffLogin   // every generated OP, admins first
	ExpiredToken           string         // an expired token of the first non-admin OP
	Rows                   map[string]int // rows written, by table
}

// StaffLogin is a generated OP and a token that signs it in until 2099.
type StaffLogin struct {
	StaffID, Name, Role, Token string
	ServiceChats               int // chats in 'Service' with this OP
}

// Generate writes deterministic demo or benchmark rows (the same seed gives
// the same rows) into every table of Schema. Its IDs never collide with the
// example fixture's, nor with another seed's, so it can run after
// ExampleFixture on one database; the api_client rows, though, are fixed, so
// run it once per database. On MySQL the database must use utf8mb4.
func Generate(ctx context.Context, db *sql.DB, sizes Sizes, seed int64) (Generated, error) {
	if err := sizes.check(); err != nil {
		return Generated{}, err
	}
	g := newGen(ctx, db, seed, "0002"+hex16(mix(uint64(seed))))
	out := Generated{ClientID: DemoClientID, ClientSecret: DemoClientSecret, DisabledClientID: DisabledClientID, Rows: g.rows}
	for i := range sizes.Staff {
		role := "OP"
		if i < sizes.Admins {
			role = "ADMIN"
		}
		out.Staff = append(out.Staff, StaffLogin{StaffID: g.id(kindStaff, i), Name: g.staffName(), Role: role, Token: g.id(kindToken, i)})
	}
	ops := out.Staff[sizes.Admins:]
	if len(ops) > 0 {
		out.ExpiredToken = g.id(kindToken, sizes.Staff)
	}
	var chatUsers []int
	err := run(
		func() error { return g.insertStaff(out.Staff) },
		func() error { return g.insertUsers(sizes.Users) },
		func() (err error) { chatUsers, err = g.insertChats(sizes, ops); return err },
		func() error { return g.insertOrders(sizes.Orders, sizes.Users) },
		func() error { return g.insertServiceOrders(sizes.ServiceOrders, sizes.Users, chatUsers) },
		g.insertClients,
		func() error { return g.insertTokens(out.Staff, ops, out.ExpiredToken) },
	)
	if err != nil {
		return Generated{}, err
	}
	return out, nil
}

// GenerateStaffWithChats adds one OP with exactly serviceChats chats in
// service, each with a user of its own who has a few orders and service
// orders, and a token for the OP that is valid until 2099. Benchmarks use it
// to put OPs of known load beside Generate's data. Its IDs derive from
// staffID, so OPs added this way never collide with each other or with
// Generate's rows.
func GenerateStaffWithChats(ctx context.Context, db *sql.DB, staffID, token string, serviceChats int, seed int64) error {
	if staffID == "" || token == "" || serviceChats < 0 || serviceChats >= maxRows {
		return fmt.Errorf("legacydb: need a staff id, a token and from 0 to %d chats", maxRows-1)
	}
	h := fnv.New64a()
	h.Write([]byte(staffID))
	g := newGen(ctx, db, seed, "0003"+hex16(h.Sum64()))
	op := StaffLogin{StaffID: staffID, Name: g.staffName(), Role: "OP", Token: token}
	return run(
		func() error { return g.insertStaff([]StaffLogin{op}) },
		func() error { return g.insertUsers(serviceChats) },
		func() error {
			return g.insert("op_chat", chatColumns, func(add func(...any)) {
				created := ""
				for i := range serviceChats {
					created = g.chatTime(created, i == 1)
					g.addChat(add, i, i, op.StaffID, "Service", created)
				}
			})
		},
		func() error {
			return g.insert("user_order", orderColumns, func(add func(...any)) {
				n := 0
				for u := range serviceChats {
					for range g.r.IntN(4) {
						g.addOrder(add, n, u)
						n++
					}
				}
			})
		},
		func() error {
			return g.insert("service_order", serviceColumns, func(add func(...any)) {
				n := 0
				for u := range serviceChats {
					if g.r.IntN(3) == 0 {
						g.addServiceOrder(add, n, u, g.id(kindChat, u))
						n++
					}
				}
			})
		},
		func() error { return g.insertTokens([]StaffLogin{op}, nil, "") },
	)
}

// run runs steps in order, up to the first that fails.
func run(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (s Sizes) check() error {
	for _, n := range []int{s.Staff, s.Admins, s.Users, s.ServiceChatsPerStaff, s.ClosedChatsPerStaff, s.WaitChats, s.Orders, s.ServiceOrders} {
		if n < 0 {
			return fmt.Errorf("legacydb: negative size in %+v", s)
		}
	}
	if s.Admins > s.Staff || s.Users < 1 {
		return fmt.Errorf("legacydb: need Admins <= Staff and at least one user: %+v", s)
	}
	chats := s.Staff*(s.ServiceChatsPerStaff+s.ClosedChatsPerStaff)*5/4 + s.WaitChats + s.Staff
	if max(s.Users+chats, s.Orders, s.ServiceOrders) >= maxRows {
		return fmt.Errorf("legacydb: more than %d rows in a table: %+v", maxRows, s)
	}
	return nil
}

// maxRows bounds the rows of one table, as an ID has 6 hex digits for its
// index.
const maxRows = 1 << 24

// The kinds of generated IDs; each has a range of its own.
const (
	kindStaff = iota + 1
	kindUser
	kindChat
	kindOrder
	kindService
	kindToken
)

// gen writes the rows of one call of Generate or GenerateStaffWithChats.
type gen struct {
	ctx  context.Context
	db   *sql.DB
	r    *rand.Rand
	ns   string // the part of every ID that tells this call's rows apart from others'
	rows map[string]int
}

func newGen(ctx context.Context, db *sql.DB, seed int64, ns string) *gen {
	return &gen{ctx: ctx, db: db, r: rand.New(rand.NewPCG(uint64(seed), 0x1e9ac7)), ns: ns, rows: map[string]int{}}
}

// id makes a legacy-looking ID: a letter, 4 digits and 32 hex digits (37
// characters): ns, then 2 hex digits for the kind, 6 for i and 8 of noise.
// IDs of one kind grow with i, so that tables and indexes are written in key
// order: random keys made BenchSizes several times slower on SQLite, and
// InnoDB stores rows in primary key order. ns separates calls; the
// fixture's IDs all start "u0001" or "o0001", which ns never does.
func (g *gen) id(kind uint64, i int) string {
	letter := "u"
	switch kind {
	case kindOrder, kindToken:
		letter = "o"
	case kindService:
		letter = "s"
	}
	key := kind<<56 | uint64(i)<<32
	return letter + g.ns + hex16(key|mix(key)>>32)
}

// mix is splitmix64's finalizer: a bijection on uint64 that makes
// sequential numbers look random.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func hex16(x uint64) string { return fmt.Sprintf("%016x", x) }

func (g *gen) insertStaff(staff []StaffLogin) error {
	return g.insert("op_staff", "staff_id, staff_name, online, role, update_time", func(add func(...any)) {
		for _, s := range staff {
			add(s.StaffID, s.Name, g.r.IntN(10)/6, s.Role, g.datetime()) // 40% online
		}
	})
}

func (g *gen) insertUsers(n int) error {
	return g.insert("app_user", "user_id, nick_name, icon_url, create_time", func(add func(...any)) {
		for i := range n {
			id := g.id(kindUser, i)
			var nick, icon any // NULL unless set below
			if g.r.IntN(5) > 0 {
				nick = pick(g.r, "小美🌸|阿杰😎|🍀幸运草|快乐每一天|追风少年|王先生|李女士|Tom|Lily_88|静静|大熊🐻|橙子🍊|"+
					`一路向北|老张|Mr."K"|小鱼儿|云淡风轻|🐱喵小姐|A-Ling|晴天`)
			}
			switch g.r.IntN(10) {
			case 0: // NULL
			case 1:
				icon = ""
			default:
				icon = "http://img.example.com/u/" + id + ".png?w=200&h=200"
			}
			add(id, nick, icon, g.datetime())
		}
	})
}

const chatColumns = "chat_id, user_id, staff_id, group_id, title, status, address, last_message, create_time"

// insertChats writes every OP's chats in service and closed chats, the
// waiting ones and a few of an unknown status. It returns the user index of
// each chat, by chat index; indexes of users or more have no app_user row.
func (g *gen) insertChats(sizes Sizes, ops []StaffLogin) ([]int, error) {
	var chatUsers []int
	err := g.insert("op_chat", chatColumns, func(add func(...any)) {
		other := func(staff any, status string) {
			user := g.pickUser(sizes.Users)
			g.addChat(add, len(chatUsers), user, staff, status, g.datetime())
			chatUsers = append(chatUsers, user)
		}
		served := 0
		for k := range ops {
			op := &ops[k]
			created := ""
			for j := range g.around(sizes.ServiceChatsPerStaff) {
				user := g.pickUser(sizes.Users)
				if served%orphanEvery == orphanEvery/2 {
					user = sizes.Users + served/orphanEvery
				}
				created = g.chatTime(created, j == 1 && k%tieEvery == 0)
				g.addChat(add, len(chatUsers), user, op.StaffID, "Service", created)
				chatUsers = append(chatUsers, user)
				op.ServiceChats++
				served++
			}
			for range g.around(sizes.ClosedChatsPerStaff) {
				other(op.StaffID, "Closed")
			}
		}
		for range sizes.WaitChats {
			other(nil, "Wait")
		}
		for i := 0; len(ops) > 0 && i <= len(ops)/transferChatsPerOP; i++ {
			other(ops[i*transferChatsPerOP%len(ops)].StaffID, unknownChatStatus)
		}
	})
	return chatUsers, err
}

// chatTime returns a new create_time, or prev when tie: some OPs have
// two chats in service created in the same second, which the ordering's
// tie break (chat_id) must settle.
func (g *gen) chatTime(prev string, tie bool) string {
	if tie {
		return prev
	}
	return g.datetime()
}

func (g *gen) addChat(add func(...any), i, user int, staff any, status, created string) {
	title, address, message := "", "", ""
	if g.r.IntN(5) < 2 {
		title = pick(g.r, "空调维修|保洁预约|家电清洗|管道疏通|开锁换锁|搬家服务|热水器安装|油烟机清洗")
	}
	if g.r.IntN(10) < 7 {
		address = pick(g.r, "北京市海淀区|北京市朝阳区|上海市徐汇区|上海市浦东新区|广州市天河区|深圳市南山区|杭州市西湖区|成都市武侯区") +
			pick(g.r, "万泉河路|中关村大街|漕溪北路|世纪大道|天河路|科技园南路|文三路|人民南路") + fmt.Sprintf("%d号", 1+g.r.IntN(300))
	}
	if g.r.IntN(10) > 0 {
		message = pick(g.r, "在吗？|师傅什么时候到？|好的，谢谢|已经付款了|能便宜点吗|明天上午可以吗|谢谢，已经修好了|地址发你了|"+
			"价格<200元 & 上门服务|[图片]")
	}
	group := fmt.Sprintf("13%016d", g.r.Int64N(1e16))
	add(g.id(kindChat, i), g.id(kindUser, user), staff, group, title, status, address, message, created)
}

const orderColumns = "order_id, user_id, amount_fen, status, create_time"

// insertOrders writes n orders of users picked at random, user by user, so
// that the user_id index is written in order too.
func (g *gen) insertOrders(n, users int) error {
	perUser := make([]int, users)
	for range n {
		perUser[g.pickUser(users)]++
	}
	return g.insert("user_order", orderColumns, func(add func(...any)) {
		i := 0
		for user, orders := range perUser {
			for range orders {
				g.addOrder(add, i, user)
				i++
			}
		}
	})
}

func (g *gen) addOrder(add func(...any), i, user int) {
	amount := int64(1+g.r.IntN(500)) * 100
	add(g.id(kindOrder, i), g.id(kindUser, user), amount, pick(g.r, "Paid|Paid|Paid|Unpaid|Canceled|Refunded"), g.datetime())
}

const serviceColumns = "service_id, user_id, chat_id, status, create_time"

// insertServiceOrders writes n service orders: most were opened from a
// chat (and so are its user's), the rest from no chat. Like orders, they
// are written user by user.
func (g *gen) insertServiceOrders(n, users int, chatUsers []int) error {
	type pick struct{ user, chat int } // chat is -1 for none
	picks := make([]pick, n)
	for i := range picks {
		if len(chatUsers) == 0 || g.r.IntN(10) < 3 {
			picks[i] = pick{g.pickUser(users), -1}
		} else {
			c := g.r.IntN(len(chatUsers))
			picks[i] = pick{chatUsers[c], c}
		}
	}
	slices.SortStableFunc(picks, func(a, b pick) int { return cmp.Compare(a.user, b.user) })
	return g.insert("service_order", serviceColumns, func(add func(...any)) {
		for i, p := range picks {
			var chat any // NULL
			if p.chat >= 0 {
				chat = g.id(kindChat, p.chat)
			}
			g.addServiceOrder(add, i, p.user, chat)
		}
	})
}

func (g *gen) addServiceOrder(add func(...any), i, user int, chat any) {
	add(g.id(kindService, i), g.id(kindUser, user), chat, pick(g.r, "Done|Done|Open|Canceled"), g.datetime())
}

func (g *gen) insertClients() error {
	return g.insert("api_client", "client_id, client_secret, client_name, enabled", func(add func(...any)) {
		add(DemoClientID, DemoClientSecret, "OP console (demo)", 1)
		add(DisabledClientID, disabledSecret, "retired demo build", 0)
	})
}

// insertTokens gives every OP of staff a live token, and the first of ops
// the expired one too, when there is one.
func (g *gen) insertTokens(staff, ops []StaffLogin, expired string) error {
	return g.insert("op_token", "token, staff_id, expire_time", func(add func(...any)) {
		for _, s := range staff {
			add(s.Token, s.StaffID, tokenLiveUntil)
		}
		if expired != "" {
			add(expired, ops[0].StaffID, tokenExpiredAt)
		}
	})
}

// batchRows is how many rows one INSERT carries: large enough to make
// round trips rare, small enough for SQLite's and MySQL's limits on
// placeholders (32,766 and 65,535).
const batchRows = 400

// insert writes the rows that fill adds to table, in one transaction, as
// multi-row INSERTs of batchRows rows (prepared once) and one shorter
// INSERT for the rest. After an error, add does nothing more.
func (g *gen) insert(table, columns string, fill func(add func(...any))) (err error) {
	tx, err := g.db.BeginTx(g.ctx, nil)
	if err != nil {
		return fmt.Errorf("legacydb: %s: %w", table, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("legacydb: %s: %w", table, err)
		}
	}()
	ncol := strings.Count(columns, ",") + 1
	head := "INSERT INTO " + table + " (" + columns + ") VALUES "
	var full *sql.Stmt // the INSERT of batchRows rows, once prepared
	args := make([]any, 0, batchRows*ncol)
	rows := 0
	flush := func() error {
		n := len(args) / ncol
		switch {
		case n == 0:
			return nil
		case n < batchRows:
			_, err = tx.ExecContext(g.ctx, insertSQL(head, ncol, n), args...)
		case full == nil:
			if full, err = tx.PrepareContext(g.ctx, insertSQL(head, ncol, n)); err == nil {
				_, err = full.ExecContext(g.ctx, args...)
			}
		default:
			_, err = full.ExecContext(g.ctx, args...)
		}
		args = args[:0]
		return err
	}
	fill(func(values ...any) {
		if err != nil {
			return
		}
		args = append(args, values...)
		rows++
		if len(args) == cap(args) {
			err = flush()
		}
	})
	if err != nil {
		return err
	}
	if err = flush(); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return err
	}
	g.rows[table] += rows
	return nil
}

// insertSQL completes head with n rows of ncol placeholders.
func insertSQL(head string, ncol, n int) string {
	row := "(" + strings.Repeat("?,", ncol-1) + "?)"
	return head + strings.Repeat(row+",", n-1) + row
}

// around returns about n: from 3n/4 to 5n/4.
func (g *gen) around(n int) int {
	lo := n * 3 / 4
	return lo + g.r.IntN(n*5/4-lo+1)
}

// pickUser picks a user index, the low ones far more often than the high
// ones, as a few users of a real platform account for most of its chats
// and orders.
func (g *gen) pickUser(users int) int {
	u := g.r.Float64()
	return int(u * u * float64(users))
}

// datetime returns a DATETIME text in 2015 or 2016, the legacy apps' years.
func (g *gen) datetime() string {
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	return start.Add(time.Duration(g.r.Int64N(731*24*3600)) * time.Second).Format(time.DateTime)
}

func (g *gen) staffName() string {
	surname := pick(g.r, "王|李|张|刘|陈|杨|黄|赵|吴|周|徐|孙|马|朱|胡|郭|何|高|林|罗")
	if g.r.IntN(2) == 0 {
		return "小" + surname // how OPs often sign in chats
	}
	return surname + pick(g.r, "伟|芳|娜|敏|静|丽|强|磊|军|洋|勇|艳|杰|涛|明|超|秀英|桂英|建华|玉兰|海燕|志强|晓明|文静")
}

// pick returns one of the '|'-separated choices, each equally likely.
func pick(r *rand.Rand, choices string) string {
	for k := r.IntN(strings.Count(choices, "|") + 1); k > 0; k-- {
		_, choices, _ = strings.Cut(choices, "|")
	}
	choice, _, _ := strings.Cut(choices, "|")
	return choice
}
