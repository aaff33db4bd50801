# redis-private.bash - sourced by the remote tier's testbed scripts
# (tools/testbed/demo-remote.sh, tests/remote/two_testbeds.sh): a private
# redis-server on a Unix socket in a folder of their own, with a random
# password, no persistence and volatile-lru (docs/remote.md), stopped by
# redis_private_stop (call it from an EXIT trap).
#
# redis_private_start DIR: starts it; sets REDIS_DIR, REDIS_SOCK,
# REDIS_PASSWORD_FILE (the password, one line) and REDIS_PID; returns 1
# (with the server's log on stderr) when it did not come up in 5 s.

REDIS_PID=

redis_private_start() {
    REDIS_DIR=$1
    REDIS_SOCK=$REDIS_DIR/redis.sock
    REDIS_PASSWORD_FILE=$REDIS_DIR/password
    mkdir -p "$REDIS_DIR" || return 1
    command -v redis-server >/dev/null || { echo "redis-server not installed (tools/install-deps.sh installs it)" >&2; return 1; }
    head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$REDIS_PASSWORD_FILE"
    echo >>"$REDIS_PASSWORD_FILE"
    chmod 600 "$REDIS_PASSWORD_FILE"
    redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 \
        --save "" --appendonly no --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" \
        --daemonize no --maxmemory 256mb --maxmemory-policy volatile-lru \
        --requirepass "$(cat "$REDIS_PASSWORD_FILE")" &
    REDIS_PID=$!
    for _ in $(seq 50); do
        [ -S "$REDIS_SOCK" ] && return 0
        sleep 0.1
    done
    cat "$REDIS_DIR/redis.log" >&2
    return 1
}

# redis_private_cli ARGS...: redis-cli on the private server as its admin.
redis_private_cli() {
    REDISCLI_AUTH=$(cat "$REDIS_PASSWORD_FILE") redis-cli -s "$REDIS_SOCK" "$@"
}

redis_private_stop() {
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
        REDIS_PID=
    fi
}

# redis_private_scenario IN OUT OUTPUT: copy scenario IN to OUT with its
# [remote] section's server and password_file pointing at the private
# server and its [run] output set to OUTPUT.
redis_private_scenario() {
    sed -e "s|^server = .*|server = $REDIS_SOCK|" \
        -e "s|^password_file = .*|password_file = $REDIS_PASSWORD_FILE|" \
        -e "s|^output = .*|output = $3|" "$1" >"$2"
}
