package store

/*
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_api_routines sqlite3_api_routines;
extern int sqlite3_auto_extension(void (*entry)(void));
extern int sqlite3_db_config(sqlite3 *db, int op, ...);

// SQLITE_DBCONFIG_ENABLE_QPSG and SQLITE_OK, from sqlite3.h.
enum { enableQPSG = 1007, sqliteOK = 0 };

// Connections configured, and those whose setting did not take.
static long plansKept, plansNotKept;

// keepPlans turns on the query planner stability guarantee on a new
// connection, and reads it back.
static int keepPlans(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
	int on = 0;
	if (sqlite3_db_config(db, enableQPSG, 1, &on) != sqliteOK || !on) {
		__atomic_add_fetch(&plansNotKept, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_add_fetch(&plansKept, 1, __ATOMIC_RELAXED);
	}
	return sqliteOK;
}

static int registerKeepPlans(void) {
	return sqlite3_auto_extension((void (*)(void))keepPlans);
}

static void plansCounts(long *kept, long *notKept) {
	*kept = __atomic_load_n(&plansKept, __ATOMIC_RELAXED);
	*notKept = __atomic_load_n(&plansNotKept, __ATOMIC_RELAXED);
}
*/
import "C"

import "fmt"

// KeepSQLitePlans makes every SQLite connection the process opens from
// now on keep each prepared statement's plan whatever values are bound to
// it: SQLite's query planner stability guarantee (QPSG).
//
// Without it, SQLite marks a parameter compared by equality in a
// statement that joins tables or orders its rows (the token's, the
// OP's) as one whose value might change the plan, and the SQLite driver
// clears a statement's bindings before binding the next values, which
// expires such a statement: it was compiled again on every run, two
// statements of every request. The values never change the plan here
// (there are no sqlite_stat4 statistics, and no LIKE on a parameter), so
// the guarantee costs no plan.
//
// It is the process's setting, as SQLite's automatic extensions are;
// registering it again changes nothing. A SQLite store sets it when it
// opens.
func KeepSQLitePlans() error {
	if rc := C.registerKeepPlans(); rc != C.sqliteOK {
		return fmt.Errorf("sqlite: registering the query planner stability guarantee: code %d", int(rc))
	}
	return nil
}

// plansKept counts the connections opened since KeepSQLitePlans whose
// guarantee is on, and those whose setting did not take.
func plansKept() (kept, notKept int64) {
	var k, n C.long
	C.plansCounts(&k, &n)
	return int64(k), int64(n)
}
