package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

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
	err := parseArgs(fs, args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil
	case errors.As(err, new(usageError)):
		return usageError{fmt.Errorf("schema: %w", errors.Unwrap(err))}
	case err != nil:
		return err
	}
	_, err = io.WriteString(stdout, app.SchemaSDL())
	return err
}
