#!/usr/bin/env bash
# Fails when graph/ or the resolver stubs differ from what `go generate`
# makes of schema.graphqls and gqlgen.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
go generate ./...
if ! git diff --quiet -- graph resolvers || [ -n "$(git ls-files --others --exclude-standard graph resolvers)" ]; then
  echo "generated code is stale: run 'go generate ./...' and commit the result" >&2
  git status --short -- graph resolvers >&2
  exit 1
fi
echo "generated code is up to date"
