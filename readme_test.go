package main

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEListsEveryFlag holds the README's configuration table to the
// flag set, so the two cannot drift apart: every flag has one row, with
// its FACADE_ variable (none for a flag of the command line only); no
// row names anything else; and a default the row begins with a code span
// for is the flag's.
func TestREADMEListsEveryFlag(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := configTable(t, string(raw))
	fs := serverFlags(&config{}, new(string))
	seen := map[string]bool{}
	for _, r := range rows {
		f := fs.Lookup(strings.TrimPrefix(r.flag, "-"))
		switch {
		case f == nil || !strings.HasPrefix(r.flag, "-"):
			t.Errorf("the README lists %s, which is no flag", r.flag)
			continue
		case seen[f.Name]:
			t.Errorf("the README lists -%s twice", f.Name)
		case !hasEnvTwin(f.Name) && len(r.envs) != 0:
			t.Errorf("the README gives -%s the variables %q; it is read from the command line only", f.Name, r.envs)
		case hasEnvTwin(f.Name) && (len(r.envs) != 1 || r.envs[0] != envName(f.Name)):
			t.Errorf("the README gives -%s the variables %q; it reads %s, one a row", f.Name, r.envs, envName(f.Name))
		case r.def != "" && r.def != f.DefValue:
			t.Errorf("the README gives -%s the default %q; it is %q", f.Name, r.def, f.DefValue)
		}
		seen[f.Name] = true
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !seen[f.Name] {
			t.Errorf("the README's configuration table lacks -%s (%s)", f.Name, envName(f.Name))
		}
	})
}

// configRow is a row of the README's configuration table: its one flag,
// its variables (one, or none for a flag of the command line only), and
// the default when the cell begins with one.
type configRow struct {
	flag string
	envs []string
	def  string
}

// configTable reads the rows of the table in the README's Configuration
// section whose first cell is a flag.
func configTable(t *testing.T, readme string) []configRow {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Configuration\n")
	if !ok {
		t.Fatal("the README has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	code := regexp.MustCompile("`([^`]*)`")
	spans := func(cell string) []string {
		var s []string
		for _, m := range code.FindAllStringSubmatch(cell, -1) {
			s = append(s, m[1])
		}
		return s
	}
	var rows []configRow
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| `-") || len(cells) < 3 {
			continue
		}
		flags := spans(cells[0])
		if len(flags) != 1 {
			t.Errorf("a row names the flags %q: want one flag a row", flags)
			continue
		}
		r := configRow{flag: flags[0], envs: spans(cells[1])}
		if m := code.FindStringSubmatchIndex(cells[2]); m != nil && m[0] == 0 {
			r.def = cells[2][m[2]:m[3]]
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		t.Fatal("no configuration table in the README's Configuration section")
	}
	return rows
}
