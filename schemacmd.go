package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"opfacade/app"
)

// schemaCommand is the schema subcommand: it prints the GraphQL schema
// the server serves, in the schema language (the schema.graphqls
// compiled into this binary), for tools that read a schema file. It needs
// no database and no configuration; GET /schema.graphql serves the same
// text while introspection is on.
func schemaCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opfacade schema", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: opfacade schema > schema.graphql\n\nPrints the GraphQL schema this server serves, in the schema language; GET /schema.graphql serves the same text while introspection is on.\n")
	}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return nil
	case err != nil:
		return usageError{fmt.Errorf("schema: %w", err)}
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("schema: unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	_, err = io.WriteString(stdout, app.SchemaSDL())
	return err
}
