/**
 * The page's stylesheet, served by the bot as `/jobs/assets/page-<hash>.css` (no inline styles:
 * the Content-Security-Policy allows only the bot's own files). Light and dark follow the
 * browser's `prefers-color-scheme`; narrow screens get a single column and a scrolling table.
 */
export const PAGE_CSS = `
:root{--bg:#fff;--fg:#1d2329;--muted:#5b6670;--line:#d8dee4;--card:#f6f8fa;--link:#0a58ca;
--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--off:#6e7781;--run:#0969da;--pr:#8250df;
--add-bg:#e6ffec;--del-bg:#ffebe9;--hunk-bg:#ddf4ff;--kw:#cf222e;--str:#0a3069;--com:#6e7781;--num:#0550ae;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9aa5b1;--line:#30363d;--card:#161b22;--link:#58a6ff;
--ok:#3fb950;--warn:#d29922;--bad:#f85149;--off:#8b949e;--run:#58a6ff;--pr:#bc8cff;
--add-bg:#12261e;--del-bg:#2d1215;--hunk-bg:#121d2f;--kw:#ff7b72;--str:#a5d6ff;--com:#8b949e;--num:#79c0ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--link)}
main{max-width:1240px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:0 0 6px;overflow-wrap:anywhere}
h2{font-size:16px;margin:24px 0 8px}
.meta{display:flex;flex-wrap:wrap;gap:4px 18px;color:var(--muted);margin:0;padding:0;list-style:none}
.meta b{color:var(--fg);font-weight:600}
.badge{display:inline-flex;align-items:center;gap:4px;padding:1px 8px;border-radius:10px;border:1px solid currentColor;font-size:12px;font-weight:600;white-space:nowrap}
.st-COMPLETED,.st-passing,.st-approved,.st-merged{color:var(--ok)}
.st-FAILED,.st-failing,.st-changes_requested{color:var(--bad)}
.st-NO_CHANGES,.st-CANCELLED,.st-closed,.st-unknown,.st-none,.st-no_pr{color:var(--off)}
.st-PENDING,.st-pending,.st-review_required,.st-draft{color:var(--warn)}
.st-CLONING,.st-RUNNING,.st-PUSHING{color:var(--run)}
.st-open{color:var(--pr)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:8px;margin:14px 0;padding:0;list-style:none}
.cards li{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 10px}
.cards .n{display:block;font-size:22px;font-weight:700}
.cards .w{color:var(--muted);font-size:12px}
.instructions pre,.msg pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px;margin:6px 0;max-height:420px;overflow:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.chart{margin:8px 0 0}
.burndown{width:100%;height:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
.grid{stroke:var(--line);stroke-width:1}
.axis{fill:var(--muted);font-size:12px}
.series{fill:none;stroke-width:2.5}
.marker{stroke-width:2}
.s-remaining{stroke:var(--warn);color:var(--warn);fill:var(--warn)} path.s-remaining,line.s-remaining{stroke-dasharray:6 4;fill:none}
.s-completed{stroke:var(--ok);fill:var(--ok);color:var(--ok)}
.s-noChanges{stroke:var(--off);fill:var(--off);color:var(--off)} path.s-noChanges,line.s-noChanges{stroke-dasharray:2 3;fill:none}
.s-failed{stroke:var(--bad);fill:var(--bad);color:var(--bad)} path.s-failed,line.s-failed{stroke-dasharray:10 3 2 3;fill:none}
.s-cancelled{stroke:var(--muted);fill:var(--muted);color:var(--muted)} path.s-cancelled,line.s-cancelled{stroke-dasharray:1 4;fill:none}
.s-open{stroke:var(--pr);fill:var(--pr);color:var(--pr)}
.s-merged{stroke:var(--run);fill:var(--run);color:var(--run)} path.s-merged,line.s-merged{stroke-dasharray:8 2;fill:none}
.s-closed{stroke:var(--fg);fill:var(--fg);color:var(--fg)} path.s-closed,line.s-closed{stroke-dasharray:3 2 3 6;fill:none}
path.series,line.series{fill:none}
circle.marker[fill=none]{fill:none}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;padding:0;margin:6px 0 0;color:var(--fg)}
.legend li{display:flex;align-items:center;gap:6px;color:var(--fg)}
.swatch{width:36px;height:12px}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin:8px 0}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:2px}
.filters select,.filters input{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:4px 6px;min-width:120px}
.filters input{min-width:200px}
#shown{color:var(--muted);margin-left:auto}
.scroll{overflow-x:auto}
table.repos{border-collapse:collapse;width:100%;font-size:13px}
table.repos th,table.repos td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
table.repos th{position:sticky;top:0;background:var(--bg);white-space:nowrap}
table.repos th button{font:inherit;font-weight:600;color:var(--fg);background:none;border:0;padding:0;cursor:pointer}
table.repos th[aria-sort=ascending] button::after{content:" ▲"}
table.repos th[aria-sort=descending] button::after{content:" ▼"}
table.repos td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.reason{max-width:360px;overflow-wrap:anywhere;color:var(--muted)}
.plus{color:var(--ok)} .minus{color:var(--bad)}
.note,.empty,.usage{color:var(--muted)}
footer{margin-top:28px;color:var(--muted);font-size:12px}
.live{color:var(--run)} .paused{color:var(--warn)}
.diff-file{border:1px solid var(--line);border-radius:8px;margin:10px 0;overflow:hidden}
.diff-file summary{background:var(--card);padding:6px 10px;cursor:pointer;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
table.diff{border-collapse:collapse;width:100%;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table.diff td{padding:0 8px;white-space:pre;vertical-align:top}
table.diff td.num{color:var(--muted);text-align:right;user-select:none;width:1%;border-right:1px solid var(--line)}
tr.add td.code{background:var(--add-bg)} tr.del td.code{background:var(--del-bg)} tr.hunk td{background:var(--hunk-bg);color:var(--muted)}
tr.meta td{color:var(--muted)}
.sign{display:inline-block;width:1.2em;color:var(--muted);user-select:none}
.tok-kw{color:var(--kw)} .tok-str{color:var(--str)} .tok-com{color:var(--com);font-style:italic} .tok-num{color:var(--num)}
.conversation{display:flex;flex-direction:column;gap:8px}
.msg{border:1px solid var(--line);border-radius:8px;padding:8px 10px;background:var(--bg)}
.msg.assistant{border-left:4px solid var(--pr)} .msg.user{border-left:4px solid var(--run)} .msg.results{border-left:4px solid var(--off)}
.msg header{display:flex;gap:10px;align-items:baseline;margin-bottom:4px}
.msg .text{white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0}
.turn-usage{color:var(--muted);font-size:12px}
.tool-result.error summary{color:var(--bad)}
nav.back{margin-bottom:8px}
@media (max-width:700px){main{padding:10px}h1{font-size:18px}.filters input,.filters select{min-width:0;width:100%}.filters label{flex:1 1 45%}#shown{margin-left:0}
table.repos .opt{display:none}.cards{grid-template-columns:repeat(3,1fr)}.cards .n{font-size:18px}}
`;
