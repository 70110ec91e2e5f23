#!/usr/bin/env bash
# Install the .desktop entry, AppStream metadata and icons for the current user (Linux).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/.."
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
install -Dm644 "$here/io.github.lorastudio.LoraStudio.desktop" "$prefix/applications/io.github.lorastudio.LoraStudio.desktop"
install -Dm644 "$here/io.github.lorastudio.LoraStudio.metainfo.xml" "$prefix/metainfo/io.github.lorastudio.LoraStudio.metainfo.xml"
install -Dm644 "$root/resources/icons/lora-studio.svg" "$prefix/icons/hicolor/scalable/apps/io.github.lorastudio.LoraStudio.svg"
for size in 16 32 48 64 128 256; do
  install -Dm644 "$root/resources/icons/lora-studio-$size.png" "$prefix/icons/hicolor/${size}x${size}/apps/io.github.lorastudio.LoraStudio.png"
done
echo "Installed desktop integration under $prefix"
