/**
 * The HTML of a job's page and of one repository's page (its diff and conversation), rendered
 * on the server from the page model. Every value goes through `esc`; links to other sites are
 * only the pull requests' URLs. The page is read-only: campaign actions stay in Slack and the
 * CLI. Pure: the same model gives the same HTML (golden-tested for its structure).
 */
import { ASSETS } from "./page-assets.ts";
import { compact, cut, duration, esc, utc } from "./html-text.ts";
import type { PageModel, RepoView } from "./page-model.ts";
import { renderChart } from "./render-chart.ts";

/** Icon and word of each status: colour is never the only signal. */
const STATUS: Record<string, [string, string]> = {
  COMPLETED: ["✔", "changed"],
  NO_CHANGES: ["–", "no changes"],
  FAILED: ["✖", "failed"],
  CANCELLED: ["⊘", "cancelled"],
  PENDING: ["…", "pending"],
  CLONING: ["↻", "cloning"],
  RUNNING: ["↻", "running"],
  PUSHING: ["↑", "pushing"],
  open: ["●", "open"],
  draft: ["◌", "draft"],
  merged: ["⇡", "merged"],
  closed: ["✕", "closed"],
  passing: ["✔", "passing"],
  failing: ["✖", "failing"],
  pending: ["…", "pending"],
  none: ["–", "none"],
  approved: ["✔", "approved"],
  changes_requested: ["✎", "changes requested"],
  review_required: ["…", "review required"],
  unknown: ["?", "unknown"],
  no_pr: ["–", "no PR"],
};

/** A status badge: icon, word, and a class for its colour. */
export function badge(status: string, title?: string): string {
  const [icon, word] = STATUS[status] ?? ["•", status.toLowerCase().replace(/_/g, " ")];
  return `<span class="badge st-${esc(status.replace(/[^A-Za-z_]/g, ""))}"${title ? ` title="${esc(title)}"` : ""}><span aria-hidden="true">${icon}</span> ${esc(word)}</span>`;
}

/** The page shell: strict-CSP-friendly (no inline script or style), the bot's own assets only. */
export function shell(title: string, main: string, attrs = ""): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>${esc(title)}</title>` +
    `<link rel="stylesheet" href="assets/${ASSETS.css.name}"><script src="assets/${ASSETS.js.name}" defer></script></head>` +
    `<body${attrs}><main>${main}</main></body></html>`
  );
}

const JOB_STATUS_WORD: Record<string, string> = { PENDING: "starting", RUNNING: "running", COMPLETED: "finished", FAILED: "finished with failures", CANCELLED: "cancelled" };

/** The job's page. `token` is this page's own token (relative links: `<token>.json`, `<token>?repo=…`). */
export function renderJobPage(m: PageModel, token: string): string {
  const j = m.job;
  const c = j.counters;
  const ended = j.finishedAt ?? (m.live ? m.asOf : undefined);
  const elapsed = ended ? duration(Date.parse(ended) - Date.parse(j.createdAt)) : "";
  const claude = j.type === "code-pattern-update";
  const meta = [
    `<li>job <b>${esc(j.jobId)}</b></li>`,
    `<li>by <b>${esc(j.createdBy)}</b></li>`,
    `<li>created <b>${esc(utc(j.createdAt))}</b></li>`,
    j.finishedAt ? `<li>finished <b>${esc(utc(j.finishedAt))}</b></li>` : "",
    elapsed ? `<li>took <b>${esc(elapsed)}</b></li>` : "",
    `<li>${claude ? "Claude" : "script"}</li>`,
    j.baseBranch ? `<li>base <b>${esc(j.baseBranch)}</b></li>` : "",
    j.verify ? `<li>verify <code>${esc(cut(j.verify, 120))}</code></li>` : "",
    j.cancelledBy ? `<li>cancelled by <b>${esc(j.cancelledBy)}</b></li>` : "",
  ].join("");
  const cards = [
    card(String(c.total), "repositories"),
    card(String(c.completed), "✔ changed"),
    card(String(c.noChanges), "– no changes"),
    card(String(c.failed), "✖ failed"),
    c.cancelled > 0 ? card(String(c.cancelled), "⊘ cancelled") : "",
    c.running > 0 ? card(String(c.running), "↻ to go") : "",
    j.prsOpened !== undefined ? card(String(j.prsOpened), "PRs opened") : "",
    j.campaign && j.campaign.prs > 0
      ? card(String(j.campaign.open), "● PRs open") + card(String(j.campaign.merged), "⇡ merged") + card(String(j.campaign.closed), "✕ closed") + card(String(j.campaign.failing), "✖ checks failing") + card(String(j.campaign.approved), "✔ approved")
      : "",
    j.tokensIn !== undefined ? card(`${compact(j.tokensIn)} / ${compact(j.tokensOut ?? 0)}`, "tokens in / out") : "",
    j.costUsd !== undefined ? card(`$${j.costUsd.toFixed(2)}`, "Claude cost (USD)") : "",
  ].join("");
  const summary =
    `<section id="summary"><h1>${esc(j.name)} ${jobBadge(j.status)}</h1><ul class="meta">${meta}</ul>` +
    `<ul class="cards">${cards}</ul></section>`;
  const instructions = j.instructions
    ? `<section class="instructions"><details${j.instructions.length < 400 ? " open" : ""}><summary>${claude ? "Instructions" : "Script"}</summary><pre>${esc(j.instructions)}</pre></details></section>`
    : "";
  const chartEnd = m.live ? m.asOf : (j.finishedAt ?? m.history.at(-1)?.t ?? m.asOf);
  const rows = m.repositories.map((r) => repoRow(r, token, claude)).join("");
  const table =
    `<section><h2>Repositories</h2>${filters()}<div class="scroll"><table class="repos" id="repos"><thead><tr>` +
    th("name", "Repository") + th("status", "Status") + `<th class="opt">Reason / summary</th>` + th("files", "Files", true) + th("lines", "± lines", true) +
    th("prnum", "PR", true) + th("checks", "Checks") + th("review", "Review") + (claude ? th("cost", "Cost", true, "opt") : "") + th("updated", "Updated", false, "opt") +
    `</tr></thead><tbody>${rows}</tbody></table></div></section>`;
  const asOf = `<p id="asof" class="note">as of <time datetime="${esc(m.asOf)}">${esc(utc(m.asOf))}</time> · <span id="live-state"${m.live ? ' class="live"' : ""}>${m.live ? "updating live" : "final"}</span></p>`;
  const footer = `<footer>Read-only view. Campaign actions (publish, retry, merge, close) are in the Slack thread and the <code>cody</code> CLI.</footer>`;
  return shell(
    `${j.name} · Cody Batch`,
    `${summary}${asOf}${instructions}<section><h2>Progress</h2>${renderChart(m.history, c.total, chartEnd)}</section>${table}${footer}`,
    ` data-json="${esc(token)}.json" data-version="${esc(m.version)}" data-live="${m.live ? "1" : "0"}"`,
  );
}

function jobBadge(status: string): string {
  const map: Record<string, string> = { PENDING: "PENDING", RUNNING: "RUNNING", COMPLETED: "COMPLETED", FAILED: "FAILED", CANCELLED: "CANCELLED" };
  const [icon] = STATUS[map[status] ?? status] ?? ["•"];
  return `<span class="badge st-${esc(status)}"><span aria-hidden="true">${icon}</span> ${esc(JOB_STATUS_WORD[status] ?? status)}</span>`;
}

function card(n: string, what: string): string {
  return `<li><span class="n">${esc(n)}</span><span class="w">${esc(what)}</span></li>`;
}

function th(key: string, label: string, numeric = false, cls = ""): string {
  return `<th data-key="${key}"${numeric ? ' data-type="num"' : ""}${cls ? ` class="${cls}"` : ""} scope="col"><button type="button">${esc(label)}</button></th>`;
}

function select(id: string, label: string, options: [string, string][]): string {
  return `<label for="f-${id}">${esc(label)}<select id="f-${id}"><option value="">all</option>${options.map(([v, l]) => `<option value="${esc(v)}">${esc(l)}</option>`).join("")}</select></label>`;
}

function filters(): string {
  return (
    `<div class="filters">` +
    `<label for="f-search">Search<input id="f-search" type="search" placeholder="owner/name" autocomplete="off"></label>` +
    select("status", "Status", [["COMPLETED", "✔ changed"], ["NO_CHANGES", "– no changes"], ["FAILED", "✖ FAILED"], ["CANCELLED", "⊘ cancelled"], ["PENDING", "… pending"], ["CLONING", "↻ cloning"], ["RUNNING", "↻ running"], ["PUSHING", "↑ pushing"]]) +
    select("pr", "PR", [["no_pr", "no PR"], ["open", "open"], ["draft", "draft"], ["merged", "merged"], ["closed", "closed"]]) +
    select("checks", "Checks", [["passing", "passing"], ["failing", "failing"], ["pending", "pending"], ["none", "none"], ["unknown", "unknown"]]) +
    select("review", "Review", [["approved", "approved"], ["changes_requested", "changes requested"], ["review_required", "review required"], ["unknown", "unknown"]]) +
    `<span id="shown" role="status"></span></div>`
  );
}

function repoRow(r: RepoView, token: string, claude: boolean): string {
  const href = `${token}?repo=${encodeURIComponent(r.name)}`;
  const lines = (r.additions ?? 0) + (r.deletions ?? 0);
  const pr = r.pr;
  const prState = pr ? pr.state : "no_pr";
  const checks = pr ? pr.checks : "";
  const review = pr ? pr.review : "";
  const text = r.reason ?? r.summary ?? "";
  const prCell = pr
    ? `${pr.url && /^https?:\/\//.test(pr.url) ? `<a href="${esc(pr.url)}" rel="noopener noreferrer" target="_blank">#${esc(pr.number ?? "")}</a>` : `#${esc(pr.number ?? "")}`} ${badge(pr.state)}${pr.conflicting ? ` <span class="badge st-FAILED">⚠ conflict</span>` : ""}`
    : "";
  const checksTitle = pr && pr.failingChecks.length ? `failing: ${pr.failingChecks.join(", ")}` : undefined;
  return (
    `<tr data-name="${esc(r.name.toLowerCase())}" data-status="${esc(r.status)}" data-pr="${esc(prState)}" data-checks="${esc(checks)}" data-review="${esc(review)}"` +
    ` data-files="${r.files ?? 0}" data-lines="${lines}" data-prnum="${pr?.number ?? 0}" data-cost="${r.costUsd ?? 0}" data-updated="${esc(r.updatedAt ?? "")}">` +
    `<td><a href="${esc(href)}">${esc(r.name)}</a></td><td>${badge(r.status)}</td>` +
    `<td class="reason opt">${esc(cut(text, 240))}</td>` +
    `<td class="num">${r.files ?? ""}</td>` +
    `<td class="num">${r.files !== undefined ? `<span class="plus">+${r.additions ?? 0}</span> <span class="minus">−${r.deletions ?? 0}</span>` : ""}</td>` +
    `<td>${prCell}</td><td>${pr ? badge(pr.checks, checksTitle) : ""}</td><td>${pr ? badge(pr.review) : ""}</td>` +
    (claude ? `<td class="num opt">${r.costUsd !== undefined ? `$${r.costUsd.toFixed(2)}` : ""}${r.tokens ? ` <span class="note">${compact(r.tokens)} tok</span>` : ""}</td>` : "") +
    `<td class="opt">${r.updatedAt ? `<time datetime="${esc(r.updatedAt)}">${esc(utc(r.updatedAt).slice(11))}</time>` : ""}</td></tr>`
  );
}

/** One repository's page: its status, reason or summary, PR, diff and (Claude jobs) conversation, as HTML already rendered. */
export function renderRepoPage(m: PageModel, repo: RepoView, token: string, parts: { diffHtml?: string; conversationHtml?: string }): string {
  const pr = repo.pr;
  const head =
    `<nav class="back"><a href="${esc(token)}">← ${esc(m.job.name)}</a></nav>` +
    `<section id="summary"><h1>${esc(repo.name)} ${badge(repo.status)}</h1><ul class="meta">` +
    `<li>job <b>${esc(m.job.jobId)}</b></li>` +
    (repo.files !== undefined ? `<li><b>${repo.files}</b> files <span class="plus">+${repo.additions ?? 0}</span> <span class="minus">−${repo.deletions ?? 0}</span></li>` : "") +
    (pr ? `<li>PR ${pr.url && /^https?:\/\//.test(pr.url) ? `<a href="${esc(pr.url)}" rel="noopener noreferrer" target="_blank">#${esc(pr.number ?? "")}</a>` : ""} ${badge(pr.state)} checks ${badge(pr.checks)} review ${badge(pr.review)}</li>` : "") +
    (repo.costUsd !== undefined ? `<li>cost <b>$${repo.costUsd.toFixed(2)}</b></li>` : "") +
    `</ul>` +
    (repo.reason ? `<p class="reason"><b>Reason:</b> ${esc(repo.reason)}</p>` : "") +
    (repo.summary ? `<p><b>Summary:</b> ${esc(repo.summary)}</p>` : "") +
    `</section>`;
  const diff = `<section id="diff"><h2>Diff</h2>${parts.diffHtml ?? `<p class="empty">No diff was stored for this repository.</p>`}</section>`;
  const conv = m.job.type === "code-pattern-update" ? `<section id="conversation"><h2>Conversation</h2>${parts.conversationHtml ?? `<p class="empty">No conversation was stored for this repository.</p>`}</section>` : "";
  return shell(`${repo.name} · ${m.job.name} · Cody Batch`, `${head}${diff}${conv}`);
}

/** The page of a refused request (404, 410): a sentence, nothing more. */
export function renderErrorPage(title: string, text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1><p>${esc(text)}</p></body></html>`;
}
