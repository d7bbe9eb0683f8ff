#!/usr/bin/env bash
# RFC 6455 / RFC 7692 conformance: Autobahn|Testsuite's fuzzing server
# (autobahntestsuite 25.10.1, Python 2.7) against fasthttp's C client
# (`fh ws --echo`) and Python client (fasthttp.WebSocket on asyncio).
#
#   bash scripts/autobahn.sh            every case (about 20 minutes per client)
#   bash scripts/autobahn.sh --quick    the CI subset: the large-payload cases of
#                                       groups 9, 12 and 13 left out (a few minutes)
#   FH_AUTOBAHN_CLIENTS="c" ...         one client only (c, python)
#
# Sets up the server idempotently in build/autobahn/venv with
# ../shared/tools/autobahn/setup-wstest.sh (PyPI, Python 2.7 from pyenv), runs it
# bound to 127.0.0.1 only (wstest_lo.py forces every listener onto loopback; no
# web UI), and prints per-group counts of OK / NON-STRICT / INFORMATIONAL /
# UNIMPLEMENTED / FAILED. Exits 1 when a case is FAILED or UNIMPLEMENTED, 77 when
# Python 2.7 is missing (said so on stderr). Needs build/release/fh and the .venv
# of scripts/test-python.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
TOOLS=${FH_AUTOBAHN_TOOLS:-$ROOT/../shared/tools/autobahn}
[ -d "$TOOLS" ] || TOOLS=/work/shared/tools/autobahn
VENV=$ROOT/build/autobahn/venv
OUT=$ROOT/build/autobahn/reports$([ $QUICK = 1 ] && echo -quick || true)
PY=${FH_VENV:-$ROOT/.venv}/bin/python
FH=$ROOT/build/release/fh
CLIENTS=${FH_AUTOBAHN_CLIENTS:-c python}

if [ ! -x "$VENV/bin/wstest" ]; then
  echo "autobahn: setting up the fuzzing server in $VENV"
  rc=0
  sh "$TOOLS/setup-wstest.sh" "$VENV" >"$ROOT/build/autobahn-setup.log" 2>&1 || rc=$?
  if [ $rc = 77 ]; then
    echo "autobahn: NOT RUN: Python 2.7 (pyenv 2.7.18) is missing, which the fuzzing" \
         "server needs (see $TOOLS/README.md)" >&2
    exit 77
  fi
  if [ $rc != 0 ]; then
    cat "$ROOT/build/autobahn-setup.log" >&2
    echo "autobahn: setting up the fuzzing server failed" >&2
    exit 1
  fi
fi
[ -x "$FH" ] || { echo "autobahn: build $FH first" >&2; exit 1; }

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$OUT"
rm -rf "${OUT:?}"/*
# Large payloads: 9.1.4-9.1.6, 9.2.4-9.2.6 (4-16 MiB), 9.3.x-9.4.x (4 MiB in
# small fragments), 9.5.x-9.6.x (1 MiB at slow chunk sizes); groups 12 and 13
# beyond their first two sizes per parameter set (.1-.4 of each subgroup are
# 16-1024-byte messages, .5-.18 up to 256 KiB).
if [ $QUICK = 1 ]; then
  # Patterns are regular expressions once they hold a '*' (autobahntestsuite's
  # caseset.py turns '*' into '.*' and matches at the start), hence the '$'.
  EXCLUDE='["9.1.4","9.1.5","9.1.6","9.2.4","9.2.5","9.2.6","9.3.*","9.4.*","9.5.*","9.6.*",
            "12.*.[5-9]$","12.*.1[0-9]$","13.*.[5-9]$","13.*.1[0-9]$"]'
else
  EXCLUDE='[]'
fi
cat >"$OUT/../spec$QUICK.json" <<JSON
{"url": "ws://127.0.0.1:$PORT", "outdir": "$OUT", "cases": ["*"],
 "exclude-cases": $EXCLUDE, "exclude-agent-cases": {}}
JSON
(cd "$OUT" && exec "$VENV/bin/python" "$TOOLS/wstest_lo.py" -m fuzzingserver \
   -s "$OUT/../spec$QUICK.json" -u 0 >"$OUT/server.log" 2>&1) &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && break
  sleep 0.2
done

status=0
for client in $CLIENTS; do
  "$PY" scripts/autobahn.py --url "ws://127.0.0.1:$PORT" --client "$client" --fh "$FH" \
    --report "$OUT" || status=1
done
exit $status
