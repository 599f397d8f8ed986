#!/usr/bin/env bash
# Installs the General MIDI SoundFont (Debian's fluid-soundfont-gm) when it is missing and this
# machine can: apt-get, and root or password-less sudo. Otherwise it says what to do and leaves
# the decision to `pipeline run`, which stops before any work when audio.required = true.
# Used by `make pipeline` and .ci/run.
set -euo pipefail
font=/usr/share/sounds/sf2/FluidR3_GM.sf2
[ -f "$font" ] && exit 0
if command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else sudo=(none); fi
  if [ "${sudo[0]:-}" != none ]; then
    echo "soundfont: installing fluid-soundfont-gm (for the audio of generated pieces)"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq fluid-soundfont-gm >/dev/null
    [ -f "$font" ] && exit 0
  fi
fi
echo "soundfont: $font is missing and cannot be installed here: install fluid-soundfont-gm," \
     "or set audio.soundfont to a General MIDI .sf2 file, or audio.required = false for MIDI only" >&2
