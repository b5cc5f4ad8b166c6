#!/usr/bin/env bash
# Installs the three system libraries the workbook links (libpng, Graphviz's libgvc, OpenBLAS) and
# pkg-config, when pkg-config cannot already find them. Debian/Ubuntu (apt-get) or macOS (Homebrew).
set -euo pipefail
missing=()
for pc in libpng libgvc openblas; do
  if ! pkg-config --exists "$pc" 2>/dev/null; then missing+=("$pc"); fi
done
# Graphviz renders PNG through a plugin package; check that its plugin config is present too.
if [ "$(uname)" = Linux ] && ! ls /usr/lib/*/graphviz/libgvplugin_core.so* >/dev/null 2>&1; then
  missing+=("graphviz-plugins")
fi
# Diagrams are laid out with DejaVu Sans; another font changes their layout and bytes.
if [ "$(uname)" = Linux ] && ! ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1; then
  missing+=("fonts-dejavu-core")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system libraries for: ${missing[*]}"
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    pkg-config libpng-dev libgraphviz-dev libopenblas-dev fonts-dejavu-core >/dev/null
elif command -v brew >/dev/null 2>&1; then
  brew install pkg-config libpng graphviz
else
  echo "error: install libpng, graphviz (libgvc) and OpenBLAS development packages by hand" >&2
  exit 1
fi
