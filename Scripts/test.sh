#!/usr/bin/env bash
# The workbook's test command: installs missing system libraries, then runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
# The chapter smoke tests run the chapters with --quick; release builds keep that to seconds.
swift build -c release
swift build --build-tests
swift test --skip-build
