#!/usr/bin/env bash
# Run import-linter and the whole pytest suite from the virtualenv.
# Starts PostgreSQL and Redis on 127.0.0.1 when they are not running.
# Extra arguments are passed to pytest.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"

wait_for() {  # wait_for <description> <command...>: up to 30 s
    local what="$1"; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    echo "run-tests: $what did not come up" >&2
    return 1
}

redis_up() {
    [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == "PONG" ]]
}

ensure_postgres() {
    if ! command -v pg_isready >/dev/null; then
        echo "run-tests: pg_isready not found; not checking PostgreSQL" >&2
        return 0
    fi
    if pg_isready -q -h 127.0.0.1 -p 5432; then
        return 0
    fi
    if ! command -v pg_ctlcluster >/dev/null; then
        echo "run-tests: PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is missing" >&2
        return 0
    fi
    local version
    for version in $(ls /etc/postgresql); do
        echo "run-tests: starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    wait_for "PostgreSQL on 127.0.0.1:5432" pg_isready -q -h 127.0.0.1 -p 5432
}

ensure_redis() {
    if ! command -v redis-cli >/dev/null || ! command -v redis-server >/dev/null; then
        echo "run-tests: redis-cli/redis-server not found; not checking Redis" >&2
        return 0
    fi
    if redis_up; then
        return 0
    fi
    echo "run-tests: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for "Redis on 127.0.0.1:6379" redis_up
}

ensure_postgres
ensure_redis

export HEARTHLINE_TEST_POSTGRES_URL="${HEARTHLINE_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
export HEARTHLINE_TEST_REDIS_URL="${HEARTHLINE_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"

echo "run-tests: lint-imports"
"$VENV/bin/lint-imports"

echo "run-tests: pytest $*"
rc=0
"$VENV/bin/pytest" -p no:cacheprovider "$@" || rc=$?
if [[ $rc -eq 5 ]]; then
    echo "run-tests: FAILURE: pytest collected no tests (exit code 5)." >&2
    echo "run-tests: an empty run is treated as a failure; check the test paths and -k/-m filters." >&2
    exit 5
fi
exit "$rc"
