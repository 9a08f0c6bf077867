/**
 * The page's one script, served by the bot as `/jobs/assets/page-<hash>.js`: filters (status,
 * PR state, checks, review), search by name and sorting by any column over the rows the server
 * rendered (data attributes, no re-render: quick at 1,000 rows), and the live refresh: while the
 * job runs or PRs are open it polls `<token>.json?since=<version>` (one GetItem when nothing
 * changed) and, when the version moved, fetches the page again and swaps the summary, chart and
 * rows in place. Plain ES2017, no framework.
 */
export const PAGE_JS = `
(function () {
  "use strict";
  var body = document.body;
  var tbody = document.querySelector("#repos tbody");
  var shown = document.getElementById("shown");
  var fields = ["status", "pr", "checks", "review"];
  var sortKey = null;
  var sortDir = 1;

  function val(id) {
    var el = document.getElementById(id);
    return el ? el.value : "";
  }

  function applyFilters() {
    if (!tbody) return;
    var want = {};
    fields.forEach(function (f) { want[f] = val("f-" + f); });
    var q = val("f-search").trim().toLowerCase();
    var rows = tbody.rows;
    var n = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = true;
      for (var j = 0; j < fields.length && ok; j++) {
        var f = fields[j];
        if (want[f] && r.getAttribute("data-" + f) !== want[f]) ok = false;
      }
      if (ok && q && (r.getAttribute("data-name") || "").indexOf(q) < 0) ok = false;
      r.hidden = !ok;
      if (ok) n++;
    }
    if (shown) shown.textContent = "showing " + n + " of " + rows.length + " repositories";
  }

  function applySort() {
    if (!tbody || !sortKey) return;
    var th = document.querySelector('th[data-key="' + sortKey + '"]');
    var numeric = th && th.getAttribute("data-type") === "num";
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.getAttribute("data-" + sortKey) || "";
      var y = b.getAttribute("data-" + sortKey) || "";
      if (numeric) return ((Number(x) || 0) - (Number(y) || 0)) * sortDir;
      return x.localeCompare(y) * sortDir;
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    tbody.appendChild(frag);
    document.querySelectorAll("th[data-key]").forEach(function (h) {
      if (h.getAttribute("data-key") === sortKey) h.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      else h.removeAttribute("aria-sort");
    });
  }

  document.querySelectorAll("th[data-key] button").forEach(function (b) {
    b.addEventListener("click", function () {
      var key = b.parentNode.getAttribute("data-key");
      sortDir = sortKey === key ? -sortDir : 1;
      sortKey = key;
      applySort();
    });
  });
  fields.forEach(function (f) {
    var el = document.getElementById("f-" + f);
    if (el) el.addEventListener("change", applyFilters);
  });
  var search = document.getElementById("f-search");
  var timer = null;
  if (search) search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(applyFilters, 120);
  });
  applyFilters();

  // Live refresh.
  var jsonUrl = body.getAttribute("data-json");
  var version = body.getAttribute("data-version");
  var state = document.getElementById("live-state");
  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    ["summary", "chart", "asof"].forEach(function (id) {
      var now = document.getElementById(id);
      var next = doc.getElementById(id);
      if (now && next) now.replaceWith(document.importNode(next, true));
    });
    var nextBody = doc.querySelector("#repos tbody");
    if (tbody && nextBody) {
      tbody.replaceChildren.apply(tbody, Array.prototype.slice.call(nextBody.rows).map(function (r) { return document.importNode(r, true); }));
    }
    applySort();
    applyFilters();
  }
  function schedule(ms) { setTimeout(poll, ms); }
  function poll() {
    fetch(jsonUrl + "?since=" + encodeURIComponent(version || ""), { cache: "no-store", credentials: "omit" })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (data) {
        var changed = !data.unchanged && data.version !== version;
        version = data.version;
        body.setAttribute("data-live", data.live ? "1" : "0");
        var running = data.job.status === "PENDING" || data.job.status === "RUNNING";
        var next = function () {
          if (state) { state.textContent = data.live ? "updating live" : "final"; state.className = data.live ? "live" : ""; }
          if (data.live) schedule(running ? 4000 : 60000);
        };
        if (!changed) return next();
        return fetch(location.href, { cache: "no-store", credentials: "omit" })
          .then(function (r) { return r.text(); })
          .then(function (html) { swap(html); next(); });
      })
      .catch(function () {
        if (state) { state.textContent = "updates paused, retrying"; state.className = "paused"; }
        schedule(15000);
      });
  }
  if (jsonUrl && body.getAttribute("data-live") === "1") schedule(3000);
})();
`;
