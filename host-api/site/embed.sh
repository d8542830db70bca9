#!/bin/sh
# embed.sh NAME FILE: prints FILE as a C string constant `const char NAME[]`, one source line
# per line of the file (host-api/site.mk builds host-api/site_assets.c with it). Backslashes,
# quotes and '?' (trigraphs) are escaped.
set -eu
printf '/* Generated from %s by host-api/site/embed.sh; do not edit. */\n' "$(basename "$2")"
printf 'const char %s[] =\n' "$1"
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/  "/' -e 's/$/\\n"/' "$2"
printf '  "";\n'
