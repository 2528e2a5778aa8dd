#!/usr/bin/env bash
# Refreshes book/_vendor/ from the npm registry: the self-hosted MathJax, the
# ipywidgets HTML manager and the Bengali web font. Run only to change a version;
# the result is committed, so building the book never needs the network.
set -euo pipefail
MATHJAX=mathjax@3.2.2
WIDGETS=@jupyter-widgets/html-manager@1.0.15
REQUIREJS=requirejs@2.3.8
FONT=@fontsource/noto-sans-bengali@5.3.0

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/book/_vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
unpack() { mkdir -p "$1"; tar xzf "$(npm pack --silent "$2")" -C "$1"; }
unpack mathjax "$MATHJAX"
unpack widgets "$WIDGETS"
unpack requirejs "$REQUIREJS"
unpack font "$FONT"

# widgets/setup.js is ours (see its comments): keep it.
rm -rf "$out/mathjax" "$out/fonts"
find "$out/widgets" -type f ! -name setup.js -delete 2>/dev/null || true
mkdir -p "$out/mathjax/output/chtml/fonts" "$out/widgets" "$out/fonts"
cp mathjax/package/es5/tex-chtml-full.js mathjax/package/LICENSE "$out/mathjax/"
cp -r mathjax/package/es5/output/chtml/fonts/woff-v2 "$out/mathjax/output/chtml/fonts/"
cp widgets/package/dist/embed-amd.js "$out/widgets/"
cp widgets/package/dist/*.woff2 "$out/widgets/"
cp widgets/package/dist/embed.js.LICENSE.txt "$out/widgets/LICENSE.txt"
cp requirejs/package/require.js "$out/widgets/"
cp font/package/LICENSE "$out/fonts/OFL.txt"
for w in 400 700; do
  cp "font/package/files/noto-sans-bengali-bengali-$w-normal.woff2" "$out/fonts/"
done
echo "vendored into $out"
