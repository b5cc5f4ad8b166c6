#!/usr/bin/env bash
# The whole book with its defaults: installs missing system libraries, builds in release, runs
# every chapter in order (each writes Figures/NN-name and leaves its models in .cache for the
# next), then weaves Book.md and checks it. Extra arguments go to every chapter (e.g. --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release
for folder in Chapters/[0-9][0-9]-*/; do
    chapter=$(basename "$folder")
    echo "== $chapter"
    .build/release/"$chapter" "$@"
done
.build/release/weave
.build/release/weave --check
