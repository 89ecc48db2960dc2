#!/usr/bin/env bash
# Checks an HTML report the way a reader sees it.
#
#   Scripts/check-report.sh [--out DIR] path/to/report.html
#
# 1. Static checks on the HTML: all six sections are there, nothing is fetched from the network,
#    and every <img> is a data:image/png;base64 URI that decodes to a well-formed PNG (signature,
#    chunk CRCs, IHDR size, IDAT that inflates to the size IHDR promises).
# 2. Headless Chromium (Debian's `chromium`, installed with apt-get if missing) screenshots the page
#    at 1280 px, at 400 px (phone) and in dark mode; each screenshot must not be blank: enough
#    distinct colours and enough pixels that differ from the page background.
#
# Screenshots are kept in DIR (default: a fresh temporary folder) so a person, or CI as an
# artifact, can look at them. Exit status: 0 all good, 1 a check failed, 2 usage or tool error.
set -euo pipefail

usage() { echo "usage: $0 [--out DIR] path/to/report.html" >&2; exit 2; }

out=""
report=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
        -h|--help) usage ;;
        *) [ -z "$report" ] || usage; report="$1"; shift ;;
    esac
done
[ -n "$report" ] || usage
if [ ! -f "$report" ]; then
    echo "check-report: $report not found: run \`diagnose\` (or \`diagnose report\`) first" >&2
    exit 2
fi
report="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
command -v python3 >/dev/null || { echo "check-report: python3 is required" >&2; exit 2; }
url="file://$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$report")"
if [ -z "$out" ]; then out="$(mktemp -d "${TMPDIR:-/tmp}/check-report.XXXXXX")"; fi
mkdir -p "$out"

# --- 1. The HTML itself ------------------------------------------------------------------------
python3 - "$report" <<'PY' || exit 1
import base64, re, struct, sys, zlib

path = sys.argv[1]
html = open(path, encoding="utf-8").read()
problems = []

for section in ["verdict", "gradient-flow", "spectra", "gates", "training", "reproduce"]:
    if f'<section id="{section}">' not in html:
        problems.append(f'section "{section}" is missing')
for pattern, what in [(r'<script[^>]*\bsrc=', "an external script"), (r'<link\b', "a <link> element"),
                      (r'\b(?:src|href)="(?:https?:)?//', "a network URL"), (r'url\(\s*["\']?(?:https?:)?//', "a CSS network URL")]:
    if re.search(pattern, html, re.IGNORECASE):
        problems.append(f"the page loads {what}; it must be self-contained")

def check_png(data):
    """Returns None for a well-formed PNG, else what is wrong with it."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "no PNG signature"
    pos, idat, width = 8, b"", None
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            return f"chunk {kind!r} is truncated"
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + body) & 0xFFFFFFFF:
            return f"chunk {kind!r} has a bad CRC"
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    else:
        return "no IEND chunk"
    if width is None or width == 0 or height == 0:
        return "no IHDR or an empty image"
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None:
        return f"unknown colour type {colour}"
    try:
        raw = zlib.decompress(idat)
    except zlib.error as error:
        return f"IDAT does not inflate ({error})"
    expected = height * (1 + (width * channels * depth + 7) // 8)
    if len(raw) != expected:
        return f"IDAT holds {len(raw)} bytes, IHDR promises {expected}"
    return None

images = re.findall(r"<img\b[^>]*>", html, re.IGNORECASE)
if not images:
    problems.append("the page has no images")
for index, tag in enumerate(images, 1):
    alt = re.search(r'\balt="([^"]*)"', tag)
    name = f'image {index} ("{alt.group(1)}")' if alt else f"image {index}"
    source = re.search(r'\bsrc="([^"]*)"', tag)
    if not source or not source.group(1).startswith("data:image/png;base64,"):
        problems.append(f"{name} is not a data:image/png;base64 URI")
        continue
    try:
        data = base64.b64decode(source.group(1)[len("data:image/png;base64,"):], validate=True)
    except ValueError as error:
        problems.append(f"{name}: invalid base64 ({error})")
        continue
    problem = check_png(data)
    if problem:
        problems.append(f"{name}: {problem}")
    for attribute in ("width", "height"):
        if not re.search(rf'\b{attribute}="\d+"', tag):
            problems.append(f"{name} has no {attribute} attribute")

if problems:
    print(f"check-report: {path}:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(1)
print(f"check-report: {len(images)} images, all valid PNG data URIs; all sections present")
PY

# --- 2. The page in a real browser -------------------------------------------------------------
find_browser() {
    for candidate in chromium chromium-browser google-chrome; do
        if command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return 0; fi
    done
    return 1
}
browser="$(find_browser || true)"
if [ -z "$browser" ]; then
    echo "check-report: chromium not found; installing Debian's chromium" >&2
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "check-report: need root or sudo to install chromium" >&2; exit 2; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2
    browser="$(find_browser || true)"
    [ -n "$browser" ] || { echo "check-report: chromium is still missing after apt-get install" >&2; exit 2; }
fi

profile="$(mktemp -d "${TMPDIR:-/tmp}/check-report-profile.XXXXXX")"
trap 'rm -rf "$profile"' EXIT

shoot() {  # shoot NAME WIDTH HEIGHT [extra flags...]
    local name="$1" width="$2" height="$3"; shift 3
    local file="$out/report-$name.png"
    rm -f "$file"
    timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
        --no-first-run --user-data-dir="$profile" --run-all-compositor-stages-before-draw \
        --virtual-time-budget=5000 "$@" --window-size="$width,$height" --screenshot="$file" \
        "$url" >"$out/chromium-$name.log" 2>&1 || true
    if [ ! -s "$file" ]; then
        echo "check-report: chromium wrote no screenshot for $name; see $out/chromium-$name.log" >&2
        exit 1
    fi
    echo "$file"
}

wide="$(shoot wide 1280 2400)"
narrow="$(shoot narrow 400 2400)"
dark="$(shoot dark 1280 2400 --force-dark-mode --blink-settings=preferredColorScheme=0)"

python3 - "$wide" "$narrow" "$dark" <<'PY' || exit 1
import struct, sys, zlib
from collections import Counter

def pixels(path):
    """Decodes an 8-bit RGB or RGBA PNG (what Chromium writes) into rows of bytes."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, bpp, rows

failed = False
for path in sys.argv[1:]:
    try:
        width, height, bpp, rows = pixels(path)
    except (ValueError, zlib.error, struct.error) as error:
        print(f"check-report: cannot read screenshot {path}: {error}", file=sys.stderr)
        failed = True
        continue
    colours = Counter()
    for row in rows:
        for x in range(0, len(row), bpp):
            colours[row[x:x + 3]] += 1
    background, count = colours.most_common(1)[0]
    total = width * height
    inked = 1 - count / total
    ok = len(colours) >= 64 and inked >= 0.05
    verdict = "ok" if ok else "LOOKS BLANK"
    print(f"check-report: {path}: {width}x{height}, {len(colours)} colours, "
          f"{inked:.0%} of pixels differ from the background: {verdict}")
    failed |= not ok
sys.exit(1 if failed else 0)
PY
echo "check-report: $report rendered with its images (screenshots in $out)"
