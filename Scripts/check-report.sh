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
# 3. The pointer readout, driven over Chromium's DevTools pipe: a hover over a gradient-flow cell
#    must show that cell's G[t][j] as the run's record has it; report-tooltip.png keeps the readout.
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

for section in ["verdict", "what-to-try", "gradient-flow", "spectra", "gates", "training", "reproduce"]:
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
# --- 3. Values under the pointer ----------------------------------------------------------------
# Chromium driven over its DevTools pipe: the pointer moves over one gradient-flow heatmap cell,
# the readout must name that cell and show G[t][j] as the run's record has it (3 significant
# digits); the arrow key moves it one column; a click on a run's name in the headline comparison
# highlights that run. Screenshots of the readout and the highlight are kept with the others.
python3 - "$browser" "$url" "$report" "$out" <<'PY' || exit 1
import base64, json, os, re, subprocess, sys, tempfile, time, urllib.parse

browser, url, report, out = sys.argv[1:5]
html = open(report, encoding="utf-8").read()

def fail(message):
    print(f"check-report: pointer readout: {message}", file=sys.stderr)
    sys.exit(1)

# The first run's record, found the way a reader would: its run.json link in the Reproduce section.
links = re.findall(r'href="([^"]*/run\.json|run\.json)"', html)
if not links:
    fail("the report links to no run.json")
record_path = os.path.join(os.path.dirname(report), urllib.parse.unquote(links[0]))
record = json.load(open(record_path))
layer = next(l for l in record["probes"][-1]["layers"] if l["layer"] == 0 and l["direction"] == "forward")
G = layer["gradientFlow"]
t = len(G) - 1
j = max(0, t - 8)
expected = G[t][j]

profile = tempfile.mkdtemp(prefix="check-report-cdp.")
read_in, write_in = os.pipe()    # we write commands, Chromium reads them on fd 3
read_out, write_out = os.pipe()  # Chromium writes replies and events on fd 4
def child_fds():
    os.dup2(read_in, 3)
    os.dup2(write_out, 4)
chrome = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--hide-scrollbars", "--no-first-run", f"--user-data-dir={profile}",
                           "--remote-debugging-pipe", "about:blank"],
                          pass_fds=(3, 4), preexec_fn=child_fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(read_in); os.close(write_out)
buffer = b""
next_id = 0
events = []

def receive(deadline):
    global buffer
    while b"\0" not in buffer:
        if time.time() > deadline:
            fail("Chromium did not answer within the time limit")
        chunk = os.read(read_out, 1 << 20)
        if not chunk:
            fail("Chromium closed its DevTools pipe")
        buffer += chunk
    message, buffer = buffer.split(b"\0", 1)
    return json.loads(message)

def send(method, params=None, session=None, timeout=60):
    global next_id
    next_id += 1
    message = {"id": next_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(write_in, json.dumps(message).encode() + b"\0")
    deadline = time.time() + timeout
    while True:
        reply = receive(deadline)
        if reply.get("id") == next_id:
            if "error" in reply:
                fail(f"{method}: {reply['error']}")
            return reply.get("result", {})
        events.append(reply)

def wait_for(method, timeout=60):
    deadline = time.time() + timeout
    while True:
        for index, event in enumerate(events):
            if event.get("method") == method:
                return events.pop(index)
        events.append(receive(deadline))

try:
    target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session)
    send("Page.enable", {}, session)
    send("Page.navigate", {"url": url}, session)
    wait_for("Page.loadEventFired")

    def evaluate(expression):
        result = send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in result:
            fail(f"script error: {result['exceptionDetails']}")
        return result["result"].get("value")

    # Where cell (t, j) is on screen, from the geometry the renderer exported.
    locate = f"""(function () {{
        var node = document.querySelector('figure[id$="-gradient-flow"] script.hover-data');
        if (!node) {{ return null; }}
        var fig = node.closest('figure'), img = fig.querySelector('img'), d = JSON.parse(node.textContent);
        img.scrollIntoView({{block: 'center', behavior: 'instant'}});
        var p = d.panels[0], r = img.getBoundingClientRect(), s = r.width / d.w;
        function map(ax, v) {{
          var f = ax.log ? (Math.log10(v) - Math.log10(ax.lo)) / (Math.log10(ax.hi) - Math.log10(ax.lo)) : (v - ax.lo) / (ax.hi - ax.lo);
          return ax.a + (ax.b - ax.a) * f;
        }}
        return {{x: r.left + map(p.x, {j}) * s, y: r.top + map(p.y, {t}) * s, id: fig.id}};
    }})()"""
    where = evaluate(locate)
    if not where:
        fail("no gradient-flow figure carries readout data")
    # The page may still be laying out or scrolling: locate the cell again and move onto it until
    # the readout shows (a few tries, a fifth of a second apart).
    shown = None
    for attempt in range(15):
        if attempt:
            time.sleep(0.2)
            where = evaluate(locate)
        send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": where["x"] - 3, "y": where["y"]}, session)
        send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": where["x"], "y": where["y"]}, session)
        shown = evaluate("(function () { var tip = document.querySelector('.hover-tip'); "
                         "return tip && !tip.hidden ? tip.innerText : null; })()")
        if shown:
            break
    if not shown:
        fail(f"no readout appeared over cell t = {t}, j = {j} of {where['id']}")
    match = re.search(r"G\[(\d+)\]\[(\d+)\] = (\S+)", shown)
    if not match or (int(match.group(1)), int(match.group(2))) != (t, j):
        fail(f"the readout over t = {t}, j = {j} says {shown!r}")
    value = float(match.group(3).replace("\u2212", "-"))
    if abs(value - expected) > 5e-3 * abs(expected):
        fail(f"the readout shows G[{t}][{j}] = {value}, the record has {expected}")
    if f"t = {t}" not in shown or f"j = {j}" not in shown:
        fail(f"the readout does not name the steps: {shown!r}")
    tip = evaluate("(function () { var r = document.querySelector('.hover-tip').getBoundingClientRect(); "
                   "return {x: r.left, y: r.top, w: r.width, h: r.height, sx: window.scrollX, sy: window.scrollY}; })()")
    left, top = min(tip["x"], where["x"]) - 160, min(tip["y"], where["y"]) - 120
    # The clip is in page coordinates: viewport position plus the scroll offset.
    clip = {"x": max(0, left) + tip["sx"], "y": max(0, top) + tip["sy"], "scale": 1,
            "width": max(tip["x"] + tip["w"], where["x"]) - left + 40, "height": max(tip["y"] + tip["h"], where["y"]) - top + 40}
    shot = send("Page.captureScreenshot", {"format": "png", "clip": clip}, session)
    open(os.path.join(out, "report-tooltip.png"), "wb").write(base64.b64decode(shot["data"]))
    print(f"check-report: readout over {where['id']} cell t = {t}, j = {j}: {shown.splitlines()[-1]} "
          f"(record {expected:.4g}): ok")

    # Keyboard focus reads out like the pointer: one column left.
    evaluate("document.querySelector('figure[id$=\"-gradient-flow\"] img').focus()")
    for kind in ("keyDown", "keyUp"):
        send("Input.dispatchKeyEvent", {"type": kind, "key": "ArrowLeft", "code": "ArrowLeft", "windowsVirtualKeyCode": 37}, session)
    keyed = evaluate("document.querySelector('figure[id$=\"-gradient-flow\"] img').getAttribute('data-readout')") or ""
    if "G[" in keyed and f"[{j - 1}] =" not in keyed and j > 0:
        fail(f"the arrow key did not move the readout one column left: {keyed!r}")
    print(f"check-report: keyboard readout: {keyed.split(' | ')[-1]}: ok")

    # A click on a run's name in the headline comparison highlights that run.
    spot = evaluate("""(function () {
        var node = document.querySelector('#fig-compare-lag-profiles script.hover-data');
        if (!node) { return null; }
        var fig = node.closest('figure'), img = fig.querySelector('img'), d = JSON.parse(node.textContent);
        if (!d.names.length) { return null; }
        img.scrollIntoView({block: 'center'});
        var n = d.names[d.names.length - 1], r = img.getBoundingClientRect(), s = r.width / d.w;
        return {x: r.left + (n.r[0] + n.r[2] / 2) * s, y: r.top + (n.r[1] + n.r[3] / 2) * s, g: n.g};
    })()""")
    if spot:
        for kind in ("mousePressed", "mouseReleased"):
            send("Input.dispatchMouseEvent", {"type": kind, "x": spot["x"], "y": spot["y"], "button": "left", "clickCount": 1}, session)
        lit = evaluate("document.getElementById('fig-compare-lag-profiles').getAttribute('data-highlight')")
        if lit != str(spot["g"]):
            fail(f"a click on run {spot['g']}'s name did not highlight it (highlight: {lit!r})")
        zoomed = evaluate("!!document.querySelector('figure.zoomed')")
        if zoomed:
            fail("a click on a run's name zoomed the chart instead of only highlighting the run")
        shot = send("Page.captureScreenshot", {"format": "png"}, session)
        open(os.path.join(out, "report-highlight.png"), "wb").write(base64.b64decode(shot["data"]))
        print(f"check-report: a click on run {spot['g'] + 1}'s name highlights it: ok")
finally:
    chrome.kill()
    chrome.wait()
    subprocess.run(["rm", "-rf", profile])
PY
echo "check-report: $report rendered with its images (screenshots in $out)"
