#!/bin/sh
# Renders the demo incident's post-incident report as HTML in a headless browser (Debian's
# chromium: `apt-get install chromium`) and writes screenshots/report-html.png, the picture
# in the README. The bundle's time is pinned, so the page is the same on every run.
#
#   scripts/report_screenshot.sh [OUT.png]
set -eu
cd "$(dirname "$0")/.."
out=${1:-screenshots/report-html.png}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "report_screenshot: chromium is not installed (apt-get install chromium)" >&2
    exit 1
fi
cargo build --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME="$tmp/config"
# The case is the intrusion: from 12:55, after the CI runs' own critical events of 12:33
# and 12:39, which the alert rules would otherwise count as the first alert.
SOURCE_DATE_EPOCH=1795000000 target/debug/casefile export --demo --from 2026-11-20T12:55:00Z \
    -o "$tmp/demo.casefile" >/dev/null
target/debug/casefile report "$tmp/demo.casefile" --format html -o "$tmp/report.html"
# --no-sandbox: chromium refuses to run as root with its sandbox (containers, CI).
HOME="$tmp" "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1200,2000 --screenshot="$tmp/report.png" "file://$tmp/report.html" 2>/dev/null
mv "$tmp/report.png" "$out"
echo "wrote $out"
