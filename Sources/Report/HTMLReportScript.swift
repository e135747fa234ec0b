/// The HTML report's style sheet and its one script (report.js): the sample browser, which builds each task's
/// page of rows from that task's data/KEY.js (a script, because a page opened from file:// may not fetch
/// JSON), filters, sorts and paginates them; only the current page's rows are in the document, so a
/// 5,010-row split stays fast, and strips load lazily.
enum HTMLReportScript {
    static let style = """
    :root { color-scheme: light; --fg: #1a1a1a; --muted: #555; --line: #ccc; --accent: #0060a8; --wrong: #b00020; --right: #1b7a35; }
    body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0 auto; padding: 0 1rem 3rem; max-width: 72rem; }
    h1 { margin: 1rem 0 .25rem; } h2 { border-bottom: 1px solid var(--line); margin-top: 2rem; } h3 small { color: var(--muted); font-weight: normal; }
    .skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: #fff; padding: .25rem; }
    .scroll { overflow-x: auto; max-width: 100%; }
    table { border-collapse: collapse; margin: .5rem 0 1rem; } caption { text-align: left; color: var(--muted); font-size: .9em; white-space: nowrap; }
    thead th:first-child { text-align: left; }
    th, td { border: 1px solid var(--line); padding: .2rem .45rem; text-align: right; } th[scope=row] { text-align: left; font-weight: normal; }
    tr.reference th, tr.reference td { font-style: italic; color: var(--muted); }
    td.hit { background: #e6f2e6; } .labels td { min-width: 7rem; position: relative; } .bar { display: inline-block; height: .6em; background: #9cc3e6; margin-right: .3rem; }
    svg text { font: 12px system-ui, sans-serif; fill: #222; } svg .chart-title { font-size: 15px; font-weight: 600; }
    svg .grid { stroke: #e2e2e2; } svg .axis { stroke: #555; } svg .chance { stroke: var(--wrong); stroke-dasharray: 5 4; stroke-width: 1.5; }
    svg .chance-label { fill: var(--wrong); } svg .error-bar { stroke: #222; stroke-width: 1.2; fill: none; } svg .frame { fill: none; stroke: #999; } svg circle { fill: var(--accent); fill-opacity: .6; }
    svg.chart, svg.scatter { max-width: 100%; height: auto; }
    figure { margin: .5rem 0; } .toc { columns: 16rem; padding-left: 1.2rem; } .warning { color: var(--wrong); }
    .task { border-top: 1px solid var(--line); margin-top: 1.5rem; }
    .controls { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .5rem 0; }
    .controls label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); }
    select, button { font: inherit; padding: .15rem .3rem; } button:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 1px; }
    .pager { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
    ol.rows { list-style: none; padding: 0; margin: 0; } ol.rows > li { border: 1px solid var(--line); border-radius: 4px; padding: .5rem; margin: .5rem 0; }
    .row-head { display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .9em; }
    .correct { color: var(--right); font-weight: 600; } .wrong { color: var(--wrong); font-weight: 600; }
    .text { margin: .25rem 0; overflow-wrap: anywhere; } .text b { color: var(--muted); font-weight: normal; margin-right: .3rem; }
    .probs { font-size: .85em; color: var(--muted); }
    .strip-box { overflow-x: auto; max-width: 100%; margin-top: .3rem; }
    .strip { position: relative; display: inline-block; line-height: 0; }
    .strip img { display: block; height: 32px; image-rendering: pixelated; }
    .strip .grid { position: absolute; inset: 0; pointer-events: none; background: repeating-linear-gradient(to right, rgba(220,40,40,.45) 0 1px, transparent 1px 32px); }
    .strip .masked { position: absolute; top: 0; bottom: 0; right: 0; background: rgba(128,128,128,.35); pointer-events: none; }
    .strip .sep { position: absolute; top: -2px; bottom: -2px; width: 32px; outline: 2px solid #e08a00; pointer-events: none; }
    .strip-note { font-size: .8em; color: var(--muted); } .cut { color: var(--wrong); font-weight: 600; }
    @media (max-width: 40rem) { body { font-size: 14px; padding: 0 .5rem 2rem; } .controls label { flex: 1 1 45%; } }
    """

    static let source = #"""
    // pixelgpt HTML report: the sample browser (no network, no framework).
    "use strict";
    (function () {
      const PAGE = 25;
      const tasks = window.pixelgptReport.tasks;
      function el(tag, attrs, ...children) {
        const node = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
          if (v === null || v === undefined) continue;
          if (k === "text") node.textContent = v; else node.setAttribute(k, v);
        }
        for (const child of children) if (child !== null && child !== undefined) node.append(child);
        return node;
      }
      function name(d, v) {
        if (v === null || v === undefined) return "(no label)";
        if (d.regression) return v.toFixed(3);
        return d.labels[v] !== undefined ? d.labels[v] : "#" + v;
      }
      function confidence(d, r) { return d.regression ? -Math.abs(r.p - (r.g === null || r.g === undefined ? r.p : r.g)) : Math.max(...r.pr); }
      function language(d, r) { return r.lang || d.language || "-"; }
      function correct(d, r) { return (r.g === null || r.g === undefined || d.regression) ? null : r.g === r.p; }
      function select(label, options, onChange) {
        const s = el("select", {});
        for (const [value, text] of options) s.append(el("option", {value: value, text: text}));
        s.addEventListener("change", onChange);
        return [el("label", {}, label, s), s];
      }
      function strip(d, r) {
        if (!r.s) return null;
        d = Object.assign({}, d, {patches: r.patches || d.patches});
        const used = Math.min(d.patches, r.n + 1);
        const shown = Math.min(d.patches, used + 1);
        const sepNote = r.sep.length > 1 ? "; separator patch " + (r.sep[0] + 1) : "";
        const alt = "Strip of row " + r.i + " as the model read it: " + used + " of " + d.patches + " patches attended" + sepNote +
          (r.cut ? "; the text fills every patch and may be cut" : "") + ". Text: " + r.a + (r.b ? " | " + r.b : "");
        const img = el("img", {src: r.s, alt: alt, loading: "lazy", width: d.patches * d.patch * 2, height: d.patch * 2, "data-row": r.i});
        const box = el("div", {class: "strip", style: "width:" + d.patches * d.patch * 2 + "px"}, img, el("div", {class: "grid"}),
          el("div", {class: "masked", style: "left:" + used * d.patch * 2 + "px"}));
        for (const [k, p] of r.sep.entries()) {
          box.append(el("div", {class: "sep", title: k + 1 < r.sep.length ? "separator patch" : "end patch", style: "left:" + p * d.patch * 2 + "px"}));
        }
        const wrap = el("div", {class: "strip-box", style: "max-width:min(100%, " + (shown * d.patch * 2 + 4) + "px)", tabindex: "0",
          "aria-label": "strip of row " + r.i + ", scrolls sideways"}, box);
        const note = el("p", {class: "strip-note"}, used + " of " + d.patches + " patches attended (grey: masked)" +
          (r.sep.length > 1 ? ", separator at patch " + (r.sep[0] + 1) : "") + ", end patch " + (r.sep[r.sep.length - 1] + 1) + " (orange outline)");
        if (r.cut) note.append(" ", el("span", {class: "cut", text: "cut: the text fills every patch"}));
        return [wrap, note];
      }
      function rowItem(d, r) {
        const ok = correct(d, r);
        const head = el("div", {class: "row-head"}, el("span", {text: (r.lang ? r.lang + " " : "") + "row " + r.i}),
          el("span", {text: "gold: " + name(d, r.g)}), el("span", {text: "predicted: " + name(d, r.p)}));
        if (ok !== null) head.append(el("span", {class: ok ? "correct" : "wrong", text: ok ? "correct" : "wrong"}));
        if (!d.regression) head.append(el("span", {text: "confidence " + Math.max(...r.pr).toFixed(3)}));
        const li = el("li", {"data-index": r.i, "data-language": language(d, r), "data-outcome": ok === null ? "none" : ok ? "correct" : "wrong"}, head,
          el("p", {class: "text", dir: "auto"}, el("b", {text: r.b !== null && r.b !== undefined ? "a" : "text"}), r.a));
        if (r.b !== null && r.b !== undefined) li.append(el("p", {class: "text", dir: "auto"}, el("b", {text: "b"}), r.b));
        if (!d.regression) li.append(el("p", {class: "probs", text: d.labels.map((l, k) => l + " " + (r.pr[k] ?? NaN).toFixed(3)).join(" · ")}));
        const s = strip(d, r);
        if (s) li.append(...s);
        return li;
      }
      function browser(section) {
        // One task's rows, or (data-tasks) the rows of several languages' tasks with one label set.
        const keys = (section.dataset.tasks || section.dataset.task).split(" ");
        const missing = keys.filter((k) => !tasks[k]);
        if (missing.length) { section.append(el("p", {class: "warning", text: "data/" + missing[0] + ".js did not load"})); return; }
        const first = tasks[keys[0]];
        const d = keys.length === 1 ? first : Object.assign({}, first, {language: null,
          rows: keys.flatMap((k) => tasks[k].rows.map((r) => Object.assign({lang: tasks[k].language, patches: tasks[k].patches}, r)))});
        const state = {outcome: "all", gold: "all", predicted: "all", language: "all", sort: "index", page: 0};
        const labelOptions = [["all", "all"]].concat(d.labels.map((l, k) => [String(k), l]));
        const controls = el("div", {class: "controls", role: "group", "aria-label": "filters"});
        const update = (key) => (event) => { state[key] = event.target.value; state.page = 0; draw(); };
        if (!d.regression) {
          controls.append(select("outcome", [["all", "all"], ["correct", "correct"], ["wrong", "wrong"]], update("outcome"))[0]);
          controls.append(select("gold label", labelOptions, update("gold"))[0]);
          controls.append(select("predicted label", labelOptions, update("predicted"))[0]);
        }
        const languages = [...new Set(d.rows.map((r) => language(d, r)))].sort();
        controls.append(select("language", [["all", "all"]].concat(languages.map((l) => [l, l === "-" ? "(none)" : l])), update("language"))[0]);
        controls.append(select("sort by", [["index", "row order"], ["confidence-desc", d.regression ? "smallest error" : "most confident"],
          ["confidence-asc", d.regression ? "largest error" : "least confident"], ["length-desc", "longest"], ["length-asc", "shortest"]], update("sort"))[0]);
        const status = el("p", {class: "status", role: "status", "aria-live": "polite"});
        const prev = el("button", {type: "button", text: "previous page"}), next = el("button", {type: "button", text: "next page"});
        prev.addEventListener("click", () => { state.page -= 1; draw(); });
        next.addEventListener("click", () => { state.page += 1; draw(); });
        const list = el("ol", {class: "rows"});
        section.append(controls, el("div", {class: "pager"}, prev, next, status), list);
        function draw() {
          let rows = d.rows.filter((r) => {
            const ok = correct(d, r);
            if (state.outcome === "correct" && ok !== true) return false;
            if (state.outcome === "wrong" && ok !== false) return false;
            if (state.gold !== "all" && String(r.g) !== state.gold) return false;
            if (state.predicted !== "all" && String(r.p) !== state.predicted) return false;
            if (state.language !== "all" && state.language !== language(d, r)) return false;
            return true;
          });
          const length = (r) => r.a.length + (r.b ? r.b.length : 0);
          const sorts = {"confidence-desc": (x, y) => confidence(d, y) - confidence(d, x), "confidence-asc": (x, y) => confidence(d, x) - confidence(d, y),
            "length-desc": (x, y) => length(y) - length(x), "length-asc": (x, y) => length(x) - length(y)};
          if (sorts[state.sort]) rows = rows.slice().sort((x, y) => sorts[state.sort](x, y) || x.i - y.i);
          const pages = Math.max(1, Math.ceil(rows.length / PAGE));
          state.page = Math.min(Math.max(0, state.page), pages - 1);
          const start = state.page * PAGE, shown = rows.slice(start, start + PAGE);
          list.replaceChildren(...shown.map((r) => rowItem(d, r)));
          list.start = start + 1;
          status.textContent = rows.length === 0 ? "no rows match (of " + d.rows.length + ")" :
            "rows " + (start + 1) + "–" + (start + shown.length) + " of " + rows.length + " matching (" + d.rows.length + " in all), page " + (state.page + 1) + " of " + pages;
          section.dataset.matching = String(rows.length);
          prev.disabled = state.page === 0; next.disabled = state.page >= pages - 1;
        }
        draw();
      }
      document.querySelectorAll("section.browser").forEach(browser);
      document.body.dataset.ready = "true";
    })();
    """#
}
