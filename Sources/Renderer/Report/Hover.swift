// Values under the pointer: a small inline script that reads the JSON each chart carries
// (`ChartImage.hover`, written by `HoverExport`) and shows, next to the pointer, the value drawn there.
//
// - Heatmaps: the row and column steps, the tokens at both steps and the value G[t][j].
// - Line charts: the x under the pointer and each named series' value at the nearest point.
// - Comparison charts: a click on a run's name (legend entry or end label) highlights that run's
//   lines; another click, or a click elsewhere in the chart, clears it.
// - Keyboard: a chart takes focus with Tab and then reads out like the pointer: arrow keys move
//   over cells or along x, Page Up / Page Down change panel, digits 1-9 highlight a run, 0 clears,
//   Escape hides the readout.
//
// The page reads the same without the script: every number it shows is in the chart or the record.

enum Hover {
    /// The figure's embedded data, or "" when the chart has none.
    static func dataElement(_ chart: ChartImage) -> String {
        guard let json = chart.hover else { return "" }
        return "<script type=\"application/json\" class=\"hover-data\">\(json)</script>"
    }

    static let css = """
    .hover-tip { position: fixed; z-index: 20; pointer-events: none; max-width: 360px; padding: 6px 9px;
      background: var(--fg); color: var(--bg); border-radius: 5px; font-size: 0.82rem; line-height: 1.4;
      font-variant-numeric: tabular-nums; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.25); }
    .hover-tip div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .hover-tip .swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; margin-right: 5px;
      vertical-align: -0.05em; }
    .hover-mark { position: fixed; z-index: 19; pointer-events: none; width: 12px; height: 12px; margin: -6px 0 0 -6px;
      border: 2px solid #ffffff; border-radius: 50%; box-shadow: 0 0 0 1.5px #111111; }
    figure { position: relative; }
    figure img:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
    canvas.highlight { position: absolute; pointer-events: none; }
    """

    static let script = """
    (function () {
      "use strict";
      var tip = document.createElement("div"), mark = document.createElement("div");
      tip.className = "hover-tip"; tip.setAttribute("role", "status"); tip.hidden = true;
      mark.className = "hover-mark"; mark.hidden = true;
      var help = document.createElement("p");
      help.id = "hover-help"; help.hidden = true;
      help.textContent = "Arrow keys read out the values under a moving cursor; Page Up and Page Down change panel; " +
        "in comparison charts digits 1 to 9 highlight a run and 0 clears it; Escape hides the readout.";
      document.body.appendChild(tip); document.body.appendChild(mark); document.body.appendChild(help);
      function fmt(v) {
        if (v === null || v === undefined) { return "n/a"; }
        var a = Math.abs(v);
        if (a !== 0 && (a < 1e-3 || a >= 1e5)) { return v.toExponential(2).replace(/\\.?0+e/, "e").replace("e+", "e"); }
        return String(Number(v.toPrecision(3)));
      }
      function lg(v) { return Math.log(v) / Math.LN10; }
      function frac(ax, v) { return ax.log ? (lg(v) - lg(ax.lo)) / (lg(ax.hi) - lg(ax.lo)) : (v - ax.lo) / (ax.hi - ax.lo); }
      function map(ax, v) { return ax.a + (ax.b - ax.a) * frac(ax, v); }
      function inv(ax, p) {
        var f = (p - ax.a) / (ax.b - ax.a);
        return ax.log ? Math.pow(10, lg(ax.lo) + f * (lg(ax.hi) - lg(ax.lo))) : ax.lo + f * (ax.hi - ax.lo);
      }
      function inside(r, x, y) { return x >= r[0] && x <= r[0] + r[2] && y >= r[1] && y <= r[1] + r[3]; }
      function xAt(line, i) { return line.xy ? line.xy[i][0] : line.x0 + i * line.dx; }
      function yAt(line, i) { return line.xy ? line.xy[i][1] : line.y[i]; }
      function count(line) { return line.xy ? line.xy.length : line.y.length; }
      function nearest(line, x) {
        var n = count(line), lo = 0, hi = n - 1;
        if (!line.xy) { return Math.max(0, Math.min(n - 1, Math.round((x - line.x0) / line.dx))); }
        while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (xAt(line, mid) < x) { lo = mid; } else { hi = mid; } }
        return Math.abs(xAt(line, lo) - x) <= Math.abs(xAt(line, hi) - x) ? lo : hi;
      }
      function token(h, k) { return h.tok && k < h.tok.length ? " \\u201c" + h.tok[k] + "\\u201d" : ""; }
      // The readout at a cursor {p: panel, r, c} (heatmap) or {p, i} (lines): rows of text and the point it is for.
      function readout(d, cur) {
        var p = d.panels[cur.p], rows = [p.title], h = p.heat;
        if (h) {
          var v = h.v[cur.r] && cur.c < h.v[cur.r].length ? h.v[cur.r][cur.c] : undefined;
          rows.push(h.row + " = " + cur.r + token(h, cur.r) + ", " + h.col + " = " + cur.c + token(h, cur.c));
          rows.push(v === undefined ? "no value here (" + h.col + " > " + h.row + ")"
            : h.name.replace("{row}", cur.r).replace("{column}", cur.c) + " = " + fmt(v));
          return { rows: rows, x: map(p.x, cur.c + h.ox), y: map(p.y, cur.r + h.oy) };
        }
        var first = p.lines[0], x = xAt(first, cur.i), y = null;
        rows.push((p.x.title || "x") + " = " + fmt(x));
        p.lines.forEach(function (line) {
          var i = nearest(line, x), xi = xAt(line, i), yi = yAt(line, i), n = count(line);
          var slack = n > 1 ? Math.abs(xAt(line, 1) - xAt(line, 0)) : 0;
          if (x < Math.min(xAt(line, 0), xAt(line, n - 1)) - slack || x > Math.max(xAt(line, 0), xAt(line, n - 1)) + slack) { return; }
          rows.push({ color: line.color, text: line.name + ": " + fmt(yi) + (xi !== x ? " (at " + fmt(xi) + ")" : "") });
          if (line === first) { y = yi; }
        });
        var py = y === null || (p.y.log && !(y > 0)) ? p.plot[1] + p.plot[3] / 2 : map(p.y, y);
        return { rows: rows, x: map(p.x, x), y: Math.max(p.plot[1], Math.min(p.plot[1] + p.plot[3], py)) };
      }
      function contentBox(img, d) {
        var r = img.getBoundingClientRect(), s = Math.min(r.width / d.w, r.height / d.h);
        return { left: r.left + (r.width - d.w * s) / 2, top: r.top + (r.height - d.h * s) / 2, s: s };
      }
      function show(img, d, cur) {
        var out = readout(d, cur), b = contentBox(img, d);
        while (tip.firstChild) { tip.removeChild(tip.firstChild); }
        out.rows.forEach(function (row) {
          var div = document.createElement("div");
          if (typeof row === "string") { div.textContent = row; } else {
            var swatch = document.createElement("span"); swatch.className = "swatch"; swatch.style.background = row.color;
            div.appendChild(swatch); div.appendChild(document.createTextNode(row.text));
          }
          tip.appendChild(div);
        });
        var cx = b.left + out.x * b.s, cy = b.top + out.y * b.s;
        mark.style.left = cx + "px"; mark.style.top = cy + "px"; mark.hidden = false;
        tip.hidden = false;
        var w = tip.offsetWidth, hgt = tip.offsetHeight, left = cx + 16, top = cy + 16;
        if (left + w > window.innerWidth - 4) { left = Math.max(4, cx - 16 - w); }
        if (top + hgt > window.innerHeight - 4) { top = Math.max(4, cy - 16 - hgt); }
        tip.style.left = left + "px"; tip.style.top = top + "px";
        img.setAttribute("data-readout", out.rows.map(function (r) { return typeof r === "string" ? r : r.text; }).join(" | "));
      }
      function hide() { tip.hidden = true; mark.hidden = true; }
      // The cursor under a point (in chart points), or null outside every panel.
      function cursorAt(d, x, y) {
        for (var k = 0; k < d.panels.length; k++) {
          var p = d.panels[k];
          if (!inside(p.plot, x, y)) { continue; }
          if (p.heat) {
            var c = Math.round(inv(p.x, x) - p.heat.ox), r = Math.round(inv(p.y, y) - p.heat.oy);
            if (r < 0 || r >= p.heat.v.length || c < 0) { return null; }
            return { p: k, r: r, c: c };
          }
          return { p: k, i: nearest(p.lines[0], inv(p.x, x)) };
        }
        return null;
      }
      function start(d, k) {
        var p = d.panels[k];
        if (p.heat) { var n = p.heat.v.length - 1; return { p: k, r: n, c: Math.max(0, n - 1) }; }
        return { p: k, i: Math.floor(count(p.lines[0]) / 2) };
      }
      function highlight(fig, img, d, group) {
        var old = fig.querySelector("canvas.highlight");
        if (old) { fig.removeChild(old); }
        fig.removeAttribute("data-highlight");
        if (group === null) { return; }
        var canvas = document.createElement("canvas"), b = contentBox(img, d), fr = fig.getBoundingClientRect();
        var ratio = window.devicePixelRatio || 1;
        canvas.className = "highlight";
        canvas.style.left = (b.left - fr.left) + "px"; canvas.style.top = (b.top - fr.top) + "px";
        canvas.style.width = d.w * b.s + "px"; canvas.style.height = d.h * b.s + "px";
        canvas.width = Math.round(d.w * b.s * ratio); canvas.height = Math.round(d.h * b.s * ratio);
        var g = canvas.getContext("2d");
        g.scale(b.s * ratio, b.s * ratio);
        d.panels.forEach(function (p) {
          if (!p.lines) { return; }
          g.save();
          g.beginPath(); g.rect(p.plot[0], p.plot[1], p.plot[2], p.plot[3]); g.clip();
          g.fillStyle = "rgba(255, 255, 255, 0.72)"; g.fillRect(p.plot[0], p.plot[1], p.plot[2], p.plot[3]);
          p.lines.forEach(function (line) {
            if (line.g !== group) { return; }
            g.strokeStyle = line.color; g.lineWidth = 3.2; g.lineJoin = "round"; g.beginPath();
            var open = false;
            for (var i = 0; i < count(line); i++) {
              var v = yAt(line, i);
              if (v === null || (p.y.log && !(v > 0))) { open = false; continue; }
              var px = map(p.x, xAt(line, i)), py = map(p.y, v);
              if (open) { g.lineTo(px, py); } else { g.moveTo(px, py); open = true; }
            }
            g.stroke();
          });
          g.restore();
        });
        fig.appendChild(canvas);
        fig.setAttribute("data-highlight", String(group));
      }
      Array.prototype.forEach.call(document.querySelectorAll("script.hover-data"), function (node) {
        var fig = node.closest("figure"), img = fig && fig.querySelector("img"), d;
        try { d = JSON.parse(node.textContent); } catch (e) { return; }
        if (!img || !d.panels || !d.panels.length) { return; }
        var cur = null, lit = null;
        function point(event) {
          var b = contentBox(img, d);
          return { x: (event.clientX - b.left) / b.s, y: (event.clientY - b.top) / b.s };
        }
        img.addEventListener("mousemove", function (event) {
          var pt = point(event), c = cursorAt(d, pt.x, pt.y);
          if (c) { cur = c; show(img, d, c); } else { hide(); }
        });
        img.addEventListener("mouseleave", hide);
        img.addEventListener("click", function (event) {
          var pt = point(event), hit = null;
          d.names.forEach(function (n) { if (inside(n.r, pt.x, pt.y)) { hit = n.g; } });
          if (hit === null && lit === null) { return; }
          event.stopPropagation();
          lit = hit === lit ? null : hit;
          highlight(fig, img, d, lit);
        });
        img.addEventListener("focus", function () { cur = cur || start(d, 0); show(img, d, cur); });
        img.addEventListener("blur", hide);
        img.addEventListener("keydown", function (event) {
          var k = event.key, p = d.panels[cur ? cur.p : 0];
          if (!cur) { cur = start(d, 0); }
          if (k === "Escape") { hide(); return; }
          if (/^[0-9]$/.test(k) && d.names.length) {
            lit = k === "0" ? null : Number(k) - 1; highlight(fig, img, d, lit); return;
          }
          if (k === "PageDown" || k === "PageUp" || (!p.heat && (k === "ArrowUp" || k === "ArrowDown"))) {
            var next = cur.p + (k === "PageDown" || k === "ArrowDown" ? 1 : -1);
            cur = start(d, (next + d.panels.length) % d.panels.length);
          } else if (p.heat && k.indexOf("Arrow") === 0) {
            var n = p.heat.v.length;
            if (k === "ArrowLeft") { cur.c = Math.max(0, cur.c - 1); }
            if (k === "ArrowRight") { cur.c = Math.min(n - 1, cur.c + 1); }
            if (k === "ArrowUp") { cur.r = Math.max(0, cur.r - 1); }
            if (k === "ArrowDown") { cur.r = Math.min(n - 1, cur.r + 1); }
          } else if (k === "ArrowLeft" || k === "ArrowRight") {
            cur.i = Math.max(0, Math.min(count(p.lines[0]) - 1, cur.i + (k === "ArrowLeft" ? -1 : 1)));
          } else { return; }
          event.preventDefault();
          show(img, d, cur);
        });
        window.addEventListener("resize", function () { if (lit !== null) { highlight(fig, img, d, lit); } });
        img.tabIndex = 0;
        img.setAttribute("aria-describedby", "hover-help");
      });
      window.addEventListener("scroll", hide, { passive: true });
    })();
    """
}
