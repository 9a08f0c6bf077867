/**
 * The playground's web page: a Slack-like channel with a message box for `/cody …`, the bot's
 * modal rendered from the Block Kit view it opened (inputs, radio buttons, checkboxes, buttons,
 * inline errors), the thread (root message, replies, buttons — a confirm dialog first where the
 * bot asks for one), the ephemeral answers, and a GitHub panel to flip a PR's checks or approve it.
 * Plain HTML and a small script, no build step; it polls `/state`.
 */

/** The whole page. */
export function playgroundPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cody Batch playground</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;background:#f8f8f8;color:#1d1c1d}
header{background:#3f0e40;color:#fff;padding:10px 16px}header b{font-size:16px}header span{opacity:.8;margin-left:8px}
main{display:grid;grid-template-columns:minmax(0,1fr) 320px;gap:16px;padding:16px;max-width:1280px;margin:auto}
.panel{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px}
.msg{border-bottom:1px solid #eee;padding:8px 0}.msg:last-child{border:0}.who{font-weight:700;margin-right:6px}.app{font-size:11px;background:#eee;border-radius:3px;padding:0 4px}
.replies{margin:6px 0 0 24px;border-left:3px solid #e8e8e8;padding-left:10px}
blockquote{margin:4px 0;border-left:4px solid #ddd;padding-left:8px;color:#555}
code{background:#f3f3f3;border:1px solid #e5e5e5;border-radius:3px;padding:0 3px;font-size:12px}pre{background:#f6f6f6;border:1px solid #e5e5e5;padding:8px;overflow:auto;font-size:12px}
button{font:inherit;border:1px solid #bbb;background:#fff;border-radius:4px;padding:3px 10px;margin:4px 6px 0 0;cursor:pointer}
button.primary{background:#007a5a;color:#fff;border-color:#007a5a}button.danger{color:#e01e5a;border-color:#e01e5a}
.context{color:#616061;font-size:12px}
#composer{display:flex;gap:8px;margin-top:12px}#command{flex:1;font:inherit;padding:8px;border:1px solid #bbb;border-radius:6px}
#overlay{position:fixed;inset:0;background:rgba(0,0,0,.45);display:none;align-items:flex-start;justify-content:center;overflow:auto;padding:32px 0}
#modal{background:#fff;border-radius:8px;width:560px;max-width:95vw;padding:16px}
#modal h2{margin:0 0 12px;font-size:18px}.field{margin:10px 0}.field>label{font-weight:700;display:block}
.field input[type=text],.field textarea{width:100%;box-sizing:border-box;font:inherit;padding:6px;border:1px solid #bbb;border-radius:4px}
.hint{color:#616061;font-size:12px}.error{color:#e01e5a;font-size:13px}.optional{font-weight:400;color:#616061}
.foot{text-align:right;margin-top:12px}.ephemeral{background:#f2f7fd;border:1px solid #cde;border-radius:6px;padding:6px;margin:6px 0}
.label{display:inline-block;background:#fce8b2;border-radius:4px;padding:0 6px;font-size:12px;margin-left:6px}
</style></head><body>
<header><b>Cody Batch playground</b><span>a local stand-in for Slack and GitHub: nothing here reaches a real workspace or repository</span></header>
<main>
<section class="panel"><div><b>#playground</b><span class="label">playground</span></div>
<div id="channel"></div>
<div id="ephemerals"></div>
<form id="composer"><input id="command" autocomplete="off" placeholder="/cody   (or /cody list, /cody help)" value="/cody"><button id="send" class="primary">Send</button></form>
</section>
<aside class="panel"><b>GitHub stand-in</b><span class="label">playground</span>
<p class="hint">Pull requests the bot opened on the example repositories. Flip their checks or approve them, then press Refresh or Merge green in the thread.</p>
<div id="github"><p class="hint">No pull requests yet: tick "Open pull requests" in the form.</p></div></aside>
</main>
<div id="overlay"><div id="modal"></div></div>
<script>
const $ = (s) => document.querySelector(s);
let state = { messages: [], ephemerals: [], pulls: [] };
let shownModal = "";
let errors = {};
const post = (path, body) => fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const unent = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
function inline(t) {
  return esc(unent(t)).replace(/\`([^\`]+)\`/g, "<code>$1</code>").replace(/(^|[\\s(])\\*([^*\\n]+)\\*/g, "$1<b>$2</b>").replace(/(^|[\\s(])_([^_\\n]+)_/g, "$1<i>$2</i>");
}
function mrkdwn(text) {
  const parts = String(text ?? "").split(/(\`\`\`[\\s\\S]*?\`\`\`|<[^<>]+>)/);
  let html = parts.map((p) => {
    if (p.startsWith("\`\`\`")) return "<pre>" + esc(unent(p.slice(3, -3))) + "</pre>";
    const m = /^<([^<>]+)>$/.exec(p);
    if (!m) return inline(p);
    const [target, label] = m[1].split("|");
    if (target.startsWith("@")) return "<b>@" + esc(target.slice(1) === "UPLAYER" ? "you" : target.slice(1)) + "</b>";
    if (target.startsWith("!date")) return esc(label ?? "");
    if (target.startsWith("!")) return esc("@" + target.slice(1));
    return '<a href="' + esc(target) + '" target="_blank" rel="noreferrer">' + esc(unent(label ?? target)) + "</a>";
  }).join("");
  return html.split("\\n").map((l) => (l.startsWith("&gt; ") ? "<blockquote>" + l.slice(5) + "</blockquote>" : l)).join("<br>").replace(/<\\/blockquote><br>/g, "</blockquote>");
}
function button(el, ctx) {
  const b = document.createElement("button");
  b.textContent = el.text.text;
  if (el.style) b.className = el.style;
  b.onclick = async (e) => {
    e.preventDefault();
    if (el.confirm && !window.confirm(el.confirm.title.text + "\\n\\n" + el.confirm.text.text)) return;
    await post("/click", { actionId: el.action_id, value: el.value, blockId: ctx.blockId, messageTs: ctx.ts, inModal: ctx.inModal, values: ctx.inModal ? values() : undefined });
    refresh();
  };
  return b;
}
function blocks(list, ctx) {
  const box = document.createElement("div");
  for (const b of list ?? []) {
    const d = document.createElement("div");
    if (b.type === "section") {
      d.innerHTML = mrkdwn(b.text?.text);
      if (b.accessory?.type === "button") d.appendChild(button(b.accessory, { ...ctx, blockId: b.block_id }));
    } else if (b.type === "context") {
      d.className = "context";
      d.innerHTML = (b.elements ?? []).map((e) => mrkdwn(e.text)).join(" ");
    } else if (b.type === "actions") {
      for (const el of b.elements ?? []) if (el.type === "button") d.appendChild(button(el, { ...ctx, blockId: b.block_id }));
    } else if (b.type === "divider") d.innerHTML = "<hr>";
    box.appendChild(d);
  }
  return box;
}
function message(m, cls) {
  const d = document.createElement("div");
  d.className = cls;
  d.innerHTML = '<span class="who">Cody Batch</span><span class="app">APP</span>';
  d.appendChild(m.blocks?.length ? blocks(m.blocks, { ts: m.ts }) : Object.assign(document.createElement("div"), { innerHTML: mrkdwn(m.text) }));
  return d;
}
function renderChannel() {
  const c = $("#channel");
  c.innerHTML = "";
  for (const m of state.messages) {
    const d = message(m, "msg root");
    d.dataset.ts = m.ts;
    if (m.replies.length) {
      const r = document.createElement("div");
      r.className = "replies";
      for (const x of m.replies) r.appendChild(message(x, "msg reply"));
      d.appendChild(r);
    }
    c.appendChild(d);
  }
  $("#ephemerals").innerHTML = "";
  for (const e of state.ephemerals.slice(-3)) {
    const d = message(e, "ephemeral");
    d.insertAdjacentHTML("afterbegin", '<div class="context">Only visible to you</div>');
    $("#ephemerals").appendChild(d);
  }
}
function renderGitHub() {
  const g = $("#github");
  if (!state.pulls.length) return;
  g.innerHTML = "";
  for (const p of state.pulls) {
    const d = document.createElement("div");
    d.className = "msg pull";
    d.dataset.repository = p.repository;
    d.innerHTML = "<b>" + esc(p.repository) + " #" + p.number + "</b> <span class=context>" + esc(p.merged ? "merged" : p.state) + "</span><br>";
    const act = (label, path, body) => { const b = document.createElement("button"); b.textContent = label; b.onclick = async () => { await post(path, body); refresh(); }; d.appendChild(b); };
    if (p.state === "open") {
      act("checks pass", "/github/checks", { repository: p.repository, branch: p.branch, conclusion: "success" });
      act("checks fail", "/github/checks", { repository: p.repository, branch: p.branch, conclusion: "failure" });
      act("approve", "/github/approve", { repository: p.repository, number: p.number });
    }
    g.appendChild(d);
  }
}
function values() {
  const out = {};
  for (const f of document.querySelectorAll("#modal [data-block]")) {
    const id = f.dataset.block, kind = f.dataset.kind;
    if (kind === "plain_text_input") out[id] = { value: { type: kind, value: f.querySelector("input,textarea").value } };
    else if (kind === "radio_buttons") { const c = f.querySelector("input:checked"); out[id] = { value: { type: kind, selected_option: c ? { value: c.value } : null } }; }
    else if (kind === "checkboxes") out[id] = { value: { type: kind, selected_options: [...f.querySelectorAll("input:checked")].map((c) => ({ value: c.value })) } };
  }
  return out;
}
function renderModal() {
  const m = state.modal;
  const key = m ? JSON.stringify(m) + JSON.stringify(errors) : "";
  if (key === shownModal) return;
  const keep = shownModal && m ? values() : {};
  shownModal = key;
  $("#overlay").style.display = m ? "flex" : "none";
  if (!m) return;
  const v = m.view, box = $("#modal");
  box.innerHTML = "<h2>" + esc(v.title?.text ?? "") + '</h2><div class="context">playground · the bot\\'s own modal, rendered from its Block Kit view</div>';
  for (const b of v.blocks ?? []) {
    if (b.type !== "input") { box.appendChild(blocks([b], { inModal: true })); continue; }
    const el = b.element, f = document.createElement("div");
    f.className = "field"; f.dataset.block = b.block_id; f.dataset.kind = el.type;
    f.innerHTML = "<label>" + esc(b.label.text) + (b.optional ? ' <span class="optional">(optional)</span>' : "") + "</label>";
    const prior = keep[b.block_id]?.value;
    if (el.type === "plain_text_input") {
      const i = document.createElement(el.multiline ? "textarea" : "input");
      if (!el.multiline) i.type = "text"; else i.rows = 3;
      i.name = b.block_id; i.placeholder = el.placeholder?.text ?? "";
      i.value = prior?.value ?? el.initial_value ?? "";
      f.appendChild(i);
    } else {
      const multi = el.type === "checkboxes";
      const chosen = prior ? (multi ? prior.selected_options.map((o) => o.value) : [prior.selected_option?.value]) : (multi ? (el.initial_options ?? []).map((o) => o.value) : [el.initial_option?.value]);
      for (const o of el.options) {
        const l = document.createElement("label");
        l.style.marginRight = "12px";
        l.innerHTML = '<input type="' + (multi ? "checkbox" : "radio") + '" name="' + esc(b.block_id) + '" value="' + esc(o.value) + '"' + (chosen.includes(o.value) ? " checked" : "") + "> " + esc(o.text.text);
        f.appendChild(l);
      }
    }
    if (b.hint) f.insertAdjacentHTML("beforeend", '<div class="hint">' + esc(b.hint.text) + "</div>");
    if (errors[b.block_id]) f.insertAdjacentHTML("beforeend", '<div class="error">' + esc(errors[b.block_id]) + "</div>");
    box.appendChild(f);
  }
  const foot = document.createElement("div");
  foot.className = "foot";
  const close = document.createElement("button"); close.textContent = v.close?.text ?? "Cancel";
  close.onclick = async () => { errors = {}; await post("/close", {}); refresh(); };
  const submit = document.createElement("button"); submit.id = "modal-submit"; submit.className = "primary"; submit.textContent = v.submit?.text ?? "Submit";
  submit.onclick = async () => { const r = await post("/submit", { values: values() }); errors = r.errors ?? {}; shownModal = "-"; refresh(); };
  foot.append(close, submit);
  box.appendChild(foot);
}
async function refresh() {
  state = await fetch("/state").then((r) => r.json());
  renderModal(); renderChannel(); renderGitHub();
}
$("#composer").onsubmit = async (e) => {
  e.preventDefault();
  const text = $("#command").value.trim().replace(/^\\/cody\\s*/, "");
  errors = {};
  await post("/command", { text });
  refresh();
};
refresh();
setInterval(refresh, 700);
</script></body></html>`;
}
