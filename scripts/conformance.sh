#!/usr/bin/env bash
# Black-box SDK conformance suite of secgroup.
#
#   SECGROUP_BIN=target/debug/secgroup scripts/conformance.sh [extra pytest args]
#
# 1. creates (once) a Python venv at .test-work/venv with the pinned official Python SDKs and
#    pytest (tests/conformance/requirements.txt, transitive versions in constraints.txt);
# 2. installs (once) the pinned npm SDK into tests/conformance/node/node_modules with `npm ci`;
# 3. creates (once) a second venv at .test-work/venv-ansible with ansible-core, ansible-alicloud
#    and footmark (tests/conformance/ansible/requirements.txt, every package pinned, --no-deps)
#    for test_ansible.py; when pip cannot install it that test skips and says so (under CI the
#    script fails instead);
# 4. runs `pytest tests/conformance -q` with the venv's python against $SECGROUP_BIN
#    (default target/debug/secgroup). The script does not build the server.
# Exit code = pytest's.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CONF="tests/conformance"
VENV=".test-work/venv"
PY_STAMP="$VENV/.conformance-stamp"
NODE_DIR="$CONF/node"
NODE_STAMP="$NODE_DIR/node_modules/.conformance-stamp"

log() { printf '[conformance] %s\n' "$*" >&2; }

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

for tool in "${PYTHON:-python3}" node npm; do
  command -v "$tool" >/dev/null || { log "$tool is required"; exit 1; }
done

# ---- Python --------------------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
py_want="$(hash_of "$CONF/requirements.txt" "$CONF/constraints.txt")-$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ ! -x "$VENV/bin/python" ]] || [[ "$(cat "$PY_STAMP" 2>/dev/null)" != "$py_want" ]]; then
  log "installing the Python SDKs into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$CONF/requirements.txt" -c "$CONF/constraints.txt"
  "$VENV/bin/python" - <<'EOF'
import importlib.metadata as md
want = {"aliyun-python-sdk-core": "2.16.1", "aliyun-python-sdk-ecs": "4.24.83",
        "alibabacloud-ecs20140526": "7.11.8", "alibabacloud-tea-openapi": "0.4.6",
        "alibabacloud-vpc20160428": "7.2.2", "alibabacloud-nis20211216": "2.5.0"}
for name, version in want.items():
    got = md.version(name)
    assert got == version, f"{name}: installed {got}, pinned {version}"
EOF
  echo "$py_want" >"$PY_STAMP"
else
  log "Python SDKs already installed ($VENV)"
fi

# ---- Node ----------------------------------------------------------------------------------
node_want="$(hash_of "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json")-$(node --version)"
if [[ ! -d "$NODE_DIR/node_modules/@alicloud/ecs20140526" ]] || [[ "$(cat "$NODE_STAMP" 2>/dev/null)" != "$node_want" ]]; then
  log "installing the npm SDK into $NODE_DIR/node_modules"
  # --ignore-scripts: the only install script in the tree (@alicloud/openapi-core's
  # postinstall) installs TypeScript for Node 10/12 only and is a no-op on current Node.
  (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  got="$(cd "$NODE_DIR" && node -p "require('./node_modules/@alicloud/ecs20140526/package.json').version")"
  [[ "$got" == "7.11.6" ]] || { log "npm installed @alicloud/ecs20140526 $got, pinned 7.11.6"; exit 1; }
  echo "$node_want" >"$NODE_STAMP"
else
  log "npm SDK already installed ($NODE_DIR/node_modules)"
fi

# ---- Ansible --------------------------------------------------------------------------------
# Its own venv: ansible-alicloud installs its modules into ansible-core's package tree
# (ansible/modules/cloud/alicloud), which the SDK venv has no business carrying.
ANS_VENV=".test-work/venv-ansible"
ANS_STAMP="$ANS_VENV/.conformance-stamp"
ans_want="$(hash_of "$CONF/ansible/requirements.txt")-$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ ! -x "$ANS_VENV/bin/ansible-playbook" ]] || [[ "$(cat "$ANS_STAMP" 2>/dev/null)" != "$ans_want" ]]; then
  log "installing ansible-core, ansible-alicloud and footmark into $ANS_VENV"
  rm -rf "$ANS_VENV"
  if "$PYTHON" -m venv "$ANS_VENV" \
    && "$ANS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
      -r "$CONF/ansible/requirements.txt"; then
    echo "$ans_want" >"$ANS_STAMP"
  else
    log "could not install the Ansible venv: test_ansible.py will skip"
    rm -rf "$ANS_VENV"
    [[ "${CI:-}" != "true" ]] || exit 1
  fi
else
  log "Ansible already installed ($ANS_VENV)"
fi
export SECGROUP_ANSIBLE_VENV="$ROOT/$ANS_VENV"

# ---- Run -----------------------------------------------------------------------------------
export SECGROUP_BIN="${SECGROUP_BIN:-target/debug/secgroup}"
log "server binary: $SECGROUP_BIN"
# Extra arguments go to pytest; the default target tests/conformance is dropped when one of
# them names a path inside it (scripts/conformance.sh tests/conformance/test_policy.py -x).
targets=("$CONF")
for arg in "$@"; do
  [[ "$arg" == "$CONF"/* ]] && targets=()
done
set +e
"$VENV/bin/python" -m pytest "${targets[@]}" -q "$@"
status=$?
set -e
exit "$status"
