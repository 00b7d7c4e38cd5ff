package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"opfacade/app/apptest"
	"opfacade/legacydb"
	"opfacade/store"
)

// outageTimeout is the facade's -request-timeout in the outage test;
// outageMargin what an answer may take beyond it, for the answer's
// writing and the client's reading on a busy machine.
const (
	outageTimeout = 2 * time.Second
	outageMargin  = time.Second
)

// TestMariaDBOutage stops the facade's MariaDB server, a private one on
// a port of its own, under steady load of both front doors, and starts
// it again on the same data. While it is down, every answer is the
// documented one (GraphQL SERVICE_UNAVAILABLE, legacy 503 服务繁忙)
// within the request deadline, and /readyz says 503 with the cause;
// once it answers again, every request succeeds, without a restart of
// the facade. The figures go to the test's log (and the README's
// "Outages").
func TestMariaDBOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the outage test starts a MariaDB server of its own")
	}
	m := newPrivateMariaDB(t)
	dsn := m.createLegacy(t)
	bin := buildCommand(t)
	// The load is one client's, far over a token's fair share; the drain
	// at the end is another test's.
	s := startCommand(t, bin, t.TempDir(), nil, "-db", dsn, "-request-timeout", outageTimeout.String(), "-rate-limit", "off", "-log-format", "json", "-drain", "0")
	s.eventuallyReady(t)

	l := startLoad(s.base, 4)
	l.wait(t, 100, "ok")
	stopped := time.Now()
	m.stop(t)
	down := time.Now()
	l.wait(t, 200, "unavailable")
	// An outage longer than the deadline and than a readiness answer
	// stands.
	time.Sleep(3 * time.Second)
	s.wantReady(t, http.StatusServiceUnavailable, "database unreachable: check the host and port in -db")
	restarted := time.Now()
	m.start(t)
	up := time.Now()
	l.wait(t, 200, "ok")
	samples := l.stop()
	s.eventuallyReady(t)
	s.stop(t, 0)

	// Every answer ok or the documented one, within the deadline.
	var firstOK time.Time // the first success started after the restart
	failures := 0
	for _, x := range samples {
		if x.kind == "ok" && !x.start.Before(up) && firstOK.IsZero() {
			firstOK = x.start
		}
		switch {
		case x.kind == "other" || x.kind == "unavailable" && x.start.Add(x.took).Before(stopped):
			failures++
			if failures <= 10 {
				t.Errorf("%v into the outage, %s answered: %s", x.start.Sub(stopped).Round(time.Millisecond), x.door, x.detail)
			}
		case x.took > outageTimeout+outageMargin:
			t.Errorf("%v into the outage, %s answered %s after %v, past the deadline of %v", x.start.Sub(stopped).Round(time.Millisecond), x.door, x.kind, x.took, outageTimeout)
		}
	}
	// From the first success on, no failure: recovered, not flapping.
	for _, x := range samples {
		if !firstOK.IsZero() && !x.start.Before(firstOK) && x.kind != "ok" {
			t.Errorf("%v after the first success since the restart, %s answered: %s", x.start.Sub(firstOK).Round(time.Millisecond), x.door, x.detail)
		}
	}
	unavailable := func(x sample) bool { return x.kind == "unavailable" }
	outage := sumUp(samples, stopped, firstOK, unavailable)
	t.Logf("MariaDB stopped (SIGTERM) under load, down %v, restarted in %v: from the stop to the first success, %v unavailable (%v); back %v after the server answered; afterwards: %v",
		restarted.Sub(down).Round(time.Millisecond), up.Sub(restarted).Round(time.Millisecond), outage.failures, outage,
		firstOK.Sub(up).Round(time.Millisecond), sumUp(samples, firstOK, time.Now(), unavailable))
	for _, door := range []string{"graphql", "legacy"} {
		seen := false
		for _, x := range samples {
			seen = seen || x.door == door && x.kind == "unavailable"
		}
		if !seen {
			t.Errorf("%s never answered unavailable: the outage was not seen", door)
		}
	}
	if log := s.stderr.String(); !strings.Contains(log, `"msg":"database unavailable`) || !strings.Contains(log, `"msg":"database available again"`) {
		t.Errorf("the log does not tell the outage's start and end:\n%s", log)
	}
}

// privateMariaDB is a MariaDB server of the test's own, on a port and a
// data directory of its own: stopping it touches no other test's.
type privateMariaDB struct {
	bin, dir, addr string
	cmd            *exec.Cmd
	done           chan struct{}
	log            *apptest.LockedBuffer
}

// newPrivateMariaDB creates a data directory with mariadb-install-db and
// starts mariadbd on it, on a free loopback port; it skips the test when
// MariaDB is not installed. The server is stopped when the test ends.
func newPrivateMariaDB(t *testing.T) *privateMariaDB {
	t.Helper()
	bin, install := lookSbin("mariadbd"), lookSbin("mariadb-install-db")
	if bin == "" || install == "" {
		t.Skip("mariadbd and mariadb-install-db are not installed (Debian's mariadb-server; scripts/start-mariadb.sh installs it): skipping the outage test")
	}
	m := &privateMariaDB{bin: bin, dir: t.TempDir(), addr: deadAddr(t), log: &apptest.LockedBuffer{}}
	args := append([]string{"--no-defaults", "--datadir=" + filepath.Join(m.dir, "data"), "--auth-root-authentication-method=normal", "--skip-test-db"}, asUser()...)
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if m.cmd != nil && m.cmd.ProcessState == nil {
			_ = m.cmd.Process.Kill()
			<-m.done
		}
	})
	m.start(t)
	return m
}

// lookSbin finds a command on the PATH or in /usr/sbin, where Debian
// puts mariadbd; "" when it is in neither.
func lookSbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := filepath.Join("/usr/sbin", name); exec.Command(p, "--version").Run() == nil {
		return p
	}
	return ""
}

// asUser is the --user MariaDB needs to run as root.
func asUser() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

// start starts mariadbd on the data directory and waits until it
// answers.
func (m *privateMariaDB) start(t *testing.T) {
	t.Helper()
	_, port, _ := strings.Cut(m.addr, ":")
	args := append([]string{"--no-defaults", "--datadir=" + filepath.Join(m.dir, "data"), "--bind-address=127.0.0.1", "--port=" + port,
		"--socket=" + filepath.Join(m.dir, "mysqld.sock"), "--pid-file=" + filepath.Join(m.dir, "mysqld.pid"),
		"--skip-log-bin", "--performance-schema=OFF", "--innodb-buffer-pool-size=16M"}, asUser()...)
	m.cmd = exec.Command(m.bin, args...)
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(m.cmd, m.done)
	db, err := sql.Open("mysql", "root@tcp("+m.addr+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eventually(t, "mariadbd to answer", func() bool {
		select {
		case <-m.done:
			t.Fatalf("mariadbd exited: %s", m.log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return db.PingContext(ctx) == nil
	})
}

// stop sends mariadbd SIGTERM, as a service manager does, and waits for
// it to exit.
func (m *privateMariaDB) stop(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.done:
	case <-time.After(time.Minute):
		t.Fatalf("mariadbd did not stop after SIGTERM: %s", m.log)
	}
}

// createLegacy creates the database legacy with the legacy schema and
// the tests' fixtures, and returns its DSN for -db.
func (m *privateMariaDB) createLegacy(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("mysql", "root@tcp("+m.addr+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE legacy CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("mysql://root@tcp(%s)/legacy", m.addr)
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, script := range append([]string{legacydb.Schema}, apptest.FixtureScripts()...) {
		if err := legacydb.Exec(ctx, st.DB(), script); err != nil {
			t.Fatal(err)
		}
	}
	return dsn
}
