#!/usr/bin/env bash
# Everything CI checks: vendored front-end files, generated templates,
# formatting, vet, tidy modules, golangci-lint, Go tests with the race
# detector, and the browser tests against a freshly built binary in Debian's
# chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "chromium"
if [ ! -x /usr/bin/chromium ]; then
  sudo=
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
/usr/bin/chromium --version 2>/dev/null || dpkg-query -W chromium

# The database tests run on PostgreSQL too: internal/database/dbtest starts a
# throwaway cluster with Debian's PostgreSQL 15 binaries (as user postgres or
# nobody when run as root). WALLBOARD_TEST_POSTGRES=postgres://… uses a server
# you have instead (docs/development.md).
step "postgresql 15 (for the database tests)"
if [ -z "${WALLBOARD_TEST_POSTGRES:-}" ] && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  sudo=
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 || \
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi
if [ -z "${WALLBOARD_TEST_POSTGRES:-}" ]; then
  /usr/lib/postgresql/15/bin/initdb --version
fi

step "npm ci"
npm ci --no-audit --no-fund

step "npm run build (vendored htmx must match the pinned package)"
npm run build
if [ -n "$(git status --porcelain static/vendor)" ]; then
  git status --porcelain static/vendor
  echo "static/vendor differs from what 'npm run build' produces: commit the build's output" >&2
  exit 1
fi

step "go tool templ generate (generated templates must be committed)"
templ_sums() { git ls-files -co --exclude-standard -- '*_templ.go' | sort | xargs -r sha256sum; }
before=$(templ_sums)
go tool templ generate
if [ "$before" != "$(templ_sums)" ] || [ -n "$(git status --porcelain -- '*_templ.go')" ]; then
  git status --porcelain -- '*_templ.go'
  echo "generated templates differ from the committed ones (above): run 'go tool templ generate' at the repository root and commit the *_templ.go files" >&2
  exit 1
fi

step "gofmt -l"
unformatted=$(find . -path ./node_modules -prune -o -name '*.go' -print | xargs gofmt -l)
if [ -n "$unformatted" ]; then
  echo "$unformatted"
  echo "these files need gofmt" >&2
  exit 1
fi

step "go vet ./..."
go vet ./...

step "go mod tidy -diff (go.mod and go.sum must be tidy)"
go mod tidy -diff

# The linter is a tool of its own module (.ci/tools/go.mod pins it), so its
# many dependencies stay out of the project's go.mod; .golangci.yml says
# which linters run and why.
step "golangci-lint run ./..."
go tool -modfile=.ci/tools/go.mod golangci-lint run ./...

step "go test -race -count=1 ./..."
go test -race -count=1 ./...

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step "go build ./cmd/wallboard"
go build -o "$tmp/wallboard" ./cmd/wallboard

# A count, not a duration: Go 1.26's fuzzing coordinator can fail a run with a
# bare "context deadline exceeded" when a -fuzztime duration ends
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
step "fuzz every decoder for 100,000 inputs (go test -fuzz; a crasher is kept in the package's testdata/fuzz)"
for pkg in $(go list ./internal/...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    go test -run '^$' -fuzz "^${target}\$" -fuzztime 100000x -timeout 5m "$pkg"
  done
done

step "browser tests (web/tests)"
WALLBOARD_BIN="$tmp/wallboard" node --test --test-concurrency=1 --test-reporter=spec web/tests/*.test.mjs
