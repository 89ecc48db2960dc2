// The report's stylesheet, inlined into the page: no fonts, images or scripts are fetched.
//
// Light and dark colour schemes follow `prefers-color-scheme`; the run grid puts runs side by
// side where there is room (two 440-px columns fit a laptop) and stacks them on a phone; print
// drops the navigation and keeps figures and table rows whole on a page.

enum ReportStyle {
    /// Optional: a click on a chart shows it as large as the window, another click (or Escape)
    /// puts it back. The page reads the same without it.
    static let zoomScript = """
    document.addEventListener("click", function (event) {
      var figure = event.target.closest && event.target.closest("figure");
      var open = document.querySelector("figure.zoomed");
      if (open && open !== figure) { open.classList.remove("zoomed"); }
      if (figure && event.target.tagName === "IMG") { figure.classList.toggle("zoomed"); }
      else if (figure && figure.classList.contains("zoomed")) { figure.classList.remove("zoomed"); }
    });
    document.addEventListener("keydown", function (event) {
      var open = document.querySelector("figure.zoomed");
      if (event.key === "Escape" && open) { open.classList.remove("zoomed"); }
    });
    """

    static let css = """
    :root {
      color-scheme: light dark;
      --bg: #ffffff; --fg: #1c2230; --muted: #5a6374; --faint: #8a93a3;
      --card: #f5f7fa; --border: #dce1e8; --accent: #2558c4; --accent-bg: #e9effb;
      --warn: #8a4b00; --warn-bg: #fff4e2; --warn-border: #f0cf96;
      --bad: #b1261c; --bad-bg: #fdecea; --good: #17733a; --good-bg: #e7f5ec;
      --code-bg: #eef1f5;
    }
    @media (prefers-color-scheme: dark) {
      :root {
        --bg: #12151a; --fg: #e4e7ec; --muted: #a0a8b6; --faint: #747d8c;
        --card: #1b1f26; --border: #2f3541; --accent: #86aefc; --accent-bg: #1e2a40;
        --warn: #f3c277; --warn-bg: #2d2313; --warn-border: #5c4520;
        --bad: #ff8f86; --bad-bg: #3a1c1a; --good: #7fd69c; --good-bg: #17301f;
        --code-bg: #222731;
      }
      figure img { filter: brightness(0.92); }
    }
    * { box-sizing: border-box; }
    html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
    body {
      margin: 0; background: var(--bg); color: var(--fg);
      font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial, sans-serif;
    }
    .page { max-width: 1240px; margin: 0 auto; padding: 0 24px 48px; }
    header.top { padding: 28px 0 12px; border-bottom: 1px solid var(--border); }
    header.top h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 6px; letter-spacing: -0.01em; }
    header.top p { margin: 0; color: var(--muted); }
    nav.toc { position: sticky; top: 0; z-index: 1; background: var(--bg); border-bottom: 1px solid var(--border);
      display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 8px 0; font-size: 0.92rem; }
    nav.toc a { color: var(--muted); text-decoration: none; }
    nav.toc a:hover { color: var(--accent); }
    section { padding-top: 10px; scroll-margin-top: 48px; }
    section + section { border-top: 1px solid var(--border); margin-top: 28px; }
    h2 { font-size: 1.35rem; margin: 18px 0 8px; }
    h3 { font-size: 1.08rem; margin: 0 0 10px; display: flex; align-items: baseline; gap: 8px; flex-wrap: wrap; }
    p { margin: 0 0 12px; }
    .lede { color: var(--muted); max-width: 72ch; }
    a { color: var(--accent); }
    code, pre, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.88em; }
    code { background: var(--code-bg); padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
    pre { background: var(--code-bg); padding: 10px 12px; border-radius: 6px; margin: 0 0 10px;
      white-space: pre-wrap; overflow-wrap: anywhere; }
    pre code { background: none; padding: 0; }
    ul.verdicts { list-style: none; padding: 0; margin: 4px 0 16px; display: grid; gap: 8px; }
    ul.verdicts li { background: var(--card); border: 1px solid var(--border); border-left: 4px solid var(--faint);
      border-radius: 6px; padding: 10px 14px; font-size: 1.04rem; }
    ul.verdicts li.exploding, ul.verdicts li.not-finite { border-left-color: var(--bad); }
    ul.verdicts li .then { display: block; margin-top: 6px; }
    .name { font-weight: 650; overflow-wrap: anywhere; }
    .badge { display: inline-block; font-size: 0.75rem; font-weight: 600; line-height: 1.6; padding: 0 8px;
      border-radius: 999px; background: var(--accent-bg); color: var(--accent); white-space: nowrap; }
    .badge.exploding, .badge.not-finite, .badge.diverged { background: var(--bad-bg); color: var(--bad); }
    .badge.interrupted { background: var(--warn-bg); color: var(--warn); }
    .notice { background: var(--warn-bg); border: 1px solid var(--warn-border); border-radius: 6px;
      padding: 10px 14px; margin: 12px 0 16px; }
    .notice p { margin: 0 0 8px; color: var(--warn); }
    .table-wrap { overflow-x: auto; margin: 0 0 16px; }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.93rem; min-width: 50%; }
    th, td { text-align: left; padding: 6px 12px; border-bottom: 1px solid var(--border); vertical-align: top; }
    thead th { border-bottom: 2px solid var(--border); overflow-wrap: anywhere; }
    tbody th { font-weight: 500; color: var(--muted); white-space: nowrap; }
    td.num { text-align: right; }
    td.bad { color: var(--bad); font-weight: 600; }
    figure { margin: 0 0 18px; }
    figure img { display: block; max-width: 100%; height: auto; background: #ffffff;
      border: 1px solid var(--border); border-radius: 6px; }
    figcaption { font-size: 0.88rem; color: var(--muted); margin-top: 6px; max-width: 80ch; }
    figure.headline { max-width: 1000px; }
    figure img { cursor: zoom-in; }
    figure.zoomed { position: fixed; inset: 0; z-index: 10; margin: 0; padding: 16px; max-width: none;
      display: flex; flex-direction: column; align-items: center; justify-content: center;
      background: rgba(12, 14, 18, 0.97); cursor: zoom-out; }
    figure.zoomed img { width: 100%; height: calc(100% - 7em); object-fit: contain; background: transparent;
      border: 0; cursor: zoom-out; }
    figure.zoomed figcaption { color: #e4e7ec; max-height: 6em; overflow: auto; }
    @media (min-width: 1040px) {
      .glance { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 7fr); gap: 0 24px; align-items: start; }
      .glance ul.verdicts { margin-top: 0; }
      .glance figure.headline { margin-bottom: 12px; }
    }
    .runs { display: grid; gap: 20px 24px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr));
      margin-bottom: 12px; }
    .run { min-width: 0; background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: 14px 16px 4px; }
    .tokens { font-size: 0.85rem; color: var(--muted); overflow-wrap: anywhere; }
    .tokens span { background: var(--code-bg); border-radius: 3px; padding: 0 2px; margin: 0 1px 0 0; color: var(--fg);
      white-space: pre; font-family: ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
    dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 14px; margin: 0 0 12px; font-size: 0.93rem; }
    dl.facts dt { color: var(--muted); }
    dl.facts dd { margin: 0; overflow-wrap: anywhere; }
    footer { margin-top: 36px; padding-top: 12px; border-top: 1px solid var(--border); color: var(--faint); font-size: 0.85rem; }
    @media (max-width: 560px) {
      .page { padding: 0 14px 32px; }
      header.top h1 { font-size: 1.35rem; }
      .run { padding: 12px 12px 2px; }
      ul.verdicts li { font-size: 0.98rem; padding: 8px 12px; }
      table { font-size: 0.85rem; width: 100%; }
      th, td { padding: 5px 6px; }
      tbody th { white-space: normal; min-width: 7.5em; }
      td { min-width: 6em; }
      dl.facts { grid-template-columns: 1fr; gap: 0 0; }
      dl.facts dd { margin-bottom: 6px; }
    }
    @media print {
      :root { color-scheme: light; --bg: #fff; --fg: #000; --muted: #333; --card: #fff; --border: #bbb; --code-bg: #f2f2f2; }
      body { font-size: 11pt; }
      .page { max-width: none; padding: 0; }
      nav.toc { display: none; }
      a { color: inherit; text-decoration: none; }
      h2, h3 { break-after: avoid; }
      figure, tr, .run, ul.verdicts li, .notice { break-inside: avoid; }
      .runs { grid-template-columns: repeat(2, minmax(0, 1fr)); }
      figure img { border-color: #ccc; }
    }
    """
}
