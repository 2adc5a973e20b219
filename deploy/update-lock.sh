#!/usr/bin/env bash
# Regenerate requirements.lock: the runtime dependencies of pyproject.toml, every version
# pinned and every file's sha256 listed, resolved from PyPI (pip-tools is a dev dependency).
# Production installs it with `pip install --require-hashes --no-deps -r requirements.lock`.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
    --no-emit-find-links \
    --output-file requirements.lock pyproject.toml
