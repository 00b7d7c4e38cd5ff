package main

// graph/ and the resolver stubs are generated from schema.graphqls.
//go:generate go tool gqlgen generate
