/* Analyst report: the finding list rendered from the embedded JSON, one page at a time,
   with search, filters, sorting and details built on expand.
   Plain JavaScript with no dependencies; the report must work offline as one file.
   Customer strings come from JSON.parse and are inserted with textContent only. */
(function () {
  "use strict";
  var section = document.getElementById("findings");
  var configNode = document.getElementById("report-config");
  if (!section || !configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var data = config.data;
  var labels = config.labels;
  var F = {};
  data.fields.forEach(function (name, i) { F[name] = i; });
  var body = section.querySelector("tbody.rows");
  var noMatch = section.querySelector("tbody.no-match");
  var search = section.querySelector("input[data-filter=text]");
  var selects = Array.prototype.slice.call(section.querySelectorAll("select[data-filter]"));
  var counter = section.querySelector(".shown-count");
  var pager = section.querySelector(".pager");
  var pageText = pager.querySelector(".page-text");
  var prev = pager.querySelector("button.prev");
  var next = pager.querySelector("button.next");
  var rows = [];
  var shown = [];
  var page = 0;
  var sortKey = "rank";
  var sortDir = -1;
  var expanded = {};
  var haystacks = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function str(row, field) { return data.strings[row[F[field]]] || ""; }
  function policy(row) { return data.policies[row[F.policy]]; }
  function severity(row) { return data.severities[row[F.severity]]; }
  function state(row) { return data.states[row[F.state]] || ["", ""]; }
  function rank(row) { return data.severities.length - row[F.severity]; }

  var sortValue = {
    rank: rank,
    title: function (r) { return policy(r)[1]; },
    resource: function (r) { return r[F.name]; },
    service: function (r) { return str(r, "service"); },
    region: function (r) { return str(r, "region"); },
    state: function (r) { return state(r)[1]; },
    lastSeen: function (r) { return r[F.lastSeen]; }
  };

  function haystack(i) {
    if (!haystacks) {
      haystacks = rows.map(function (r) {
        var p = policy(r);
        return [p[0], p[1], p[4].join(" "), r[F.name], r[F.uid], str(r, "type"),
          str(r, "service"), str(r, "region"), str(r, "connection"), severity(r)[1],
          state(r)[1], r[F.statement], r[F.evidence].join(" "), r[F.id]].join(" ").toLowerCase();
      });
    }
    return haystacks[i];
  }

  function applyFilters() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = {};
    selects.forEach(function (s) { wanted[s.dataset.filter] = s.value; });
    shown = [];
    for (var i = 0; i < rows.length; i += 1) {
      var r = rows[i];
      if (wanted.severity && severity(r)[0] !== wanted.severity) { continue; }
      if (wanted.service && str(r, "service") !== wanted.service) { continue; }
      if (wanted.state && state(r)[0] !== wanted.state) { continue; }
      if (terms.length) {
        var text = haystack(i);
        if (!terms.every(function (t) { return text.indexOf(t) !== -1; })) { continue; }
      }
      shown.push(i);
    }
    sortShown();
    page = 0;
    draw();
  }

  function sortShown() {
    var get = sortValue[sortKey];
    var numeric = sortKey === "rank";
    shown.sort(function (a, b) {
      var x = get(rows[a]);
      var y = get(rows[b]);
      var order = numeric ? x - y : String(x).localeCompare(String(y), config.lang);
      return order * sortDir || a - b;
    });
  }

  function fact(list, label, value, mono) {
    var wrap = el("div");
    wrap.appendChild(el("dt", "", label));
    wrap.appendChild(el("dd", mono ? "mono" : "", value));
    list.appendChild(wrap);
  }

  function listOf(items, className, empty) {
    if (!items.length) { return el("p", "muted", empty); }
    var ul = el("ul", className);
    items.forEach(function (text) { ul.appendChild(el("li", "", text)); });
    return ul;
  }

  function detail(r) {
    var p = policy(r);
    var box = el("div", "detail");
    var facts = el("dl", "facts");
    fact(facts, labels.policy, p[0], true);
    fact(facts, labels.resourceId, r[F.uid], true);
    fact(facts, labels.resourceType, str(r, "type"), true);
    fact(facts, labels.connection, str(r, "connection"));
    fact(facts, labels.firstSeen, r[F.firstSeen]);
    fact(facts, labels.lastSeen, r[F.lastSeen]);
    if (r[F.resolvedAt]) { fact(facts, labels.resolvedAt, r[F.resolvedAt]); }
    fact(facts, labels.findingId, r[F.id], true);
    box.appendChild(facts);
    var statement = el("p", "statement");
    statement.appendChild(el("strong", "", labels.statement + ": "));
    statement.appendChild(document.createTextNode(r[F.statement]));
    box.appendChild(statement);
    box.appendChild(el("h4", "", labels.evidence));
    box.appendChild(listOf(r[F.evidence], "evidence", labels.noEvidence));
    if (r[F.config]) {
      var details = el("details", "config");
      details.appendChild(el("summary", "", labels.configuration));
      var pre = el("pre", "config-json");
      r[F.config].forEach(function (line) {
        pre.appendChild(line[1] ? el("mark", "", line[0]) : document.createTextNode(line[0]));
        pre.appendChild(document.createTextNode("\n"));
      });
      details.appendChild(pre);
      box.appendChild(details);
    }
    box.appendChild(el("h4", "", labels.rationale));
    box.appendChild(el("p", "", p[2]));
    box.appendChild(el("h4", "", labels.recommendation));
    box.appendChild(el("p", "recommendation", p[3]));
    if (r[F.commands].length) {
      var commands = el("div", "commands");
      r[F.commands].forEach(function (c) {
        var pre = el("pre", "command");
        pre.appendChild(el("code", "", c));
        commands.appendChild(pre);
      });
      box.appendChild(commands);
    }
    box.appendChild(el("h4", "", labels.controls));
    box.appendChild(listOf(p[4], "controls", labels.noControls));
    return box;
  }

  function rowNodes(i) {
    var r = rows[i];
    var sev = severity(r);
    var st = state(r);
    var open = !!expanded[i];
    var tr = el("tr", "summary-row" + (open ? " open" : ""));
    var toggleCell = el("td", "toggle-col");
    var toggle = el("button", "toggle", open ? "\u25be" : "\u25b8");
    toggle.type = "button";
    toggle.title = open ? labels.collapse : labels.expand;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.addEventListener("click", function () {
      if (expanded[i]) { delete expanded[i]; } else { expanded[i] = true; }
      draw();
    });
    toggleCell.appendChild(toggle);
    tr.appendChild(toggleCell);
    var sevCell = el("td");
    sevCell.appendChild(el("span", "sev sev-" + sev[0], sev[1]));
    tr.appendChild(sevCell);
    var title = el("td", "title", policy(r)[1]);
    title.appendChild(el("br"));
    title.appendChild(el("span", "small statement-line", r[F.statement]));
    if (r[F["new"]]) { title.appendChild(el("span", "badge-new", labels["new"])); }
    tr.appendChild(title);
    tr.appendChild(el("td", "resource", r[F.name]));
    tr.appendChild(el("td", "", str(r, "service")));
    tr.appendChild(el("td", "", str(r, "region")));
    var stateCell = el("td");
    stateCell.appendChild(el("span", "state state-" + st[0], st[1]));
    tr.appendChild(stateCell);
    tr.appendChild(el("td", "nowrap", r[F.lastSeen]));
    var out = [tr];
    if (open) {
      var dr = el("tr", "detail-row");
      dr.appendChild(el("td"));
      var cell = el("td");
      cell.colSpan = 7;
      cell.appendChild(detail(r));
      dr.appendChild(cell);
      out.push(dr);
    }
    return out;
  }

  function draw() {
    var size = config.pageSize;
    var pages = Math.max(1, Math.ceil(shown.length / size));
    if (page >= pages) { page = pages - 1; }
    var fragment = document.createDocumentFragment();
    shown.slice(page * size, page * size + size).forEach(function (i) {
      rowNodes(i).forEach(function (node) { fragment.appendChild(node); });
    });
    body.replaceChildren(fragment);
    noMatch.hidden = shown.length !== 0;
    counter.textContent = labels.showing
      .replace("{shown}", String(shown.length)).replace("{total}", String(rows.length));
    pageText.textContent = labels.page
      .replace("{page}", String(page + 1)).replace("{pages}", String(pages));
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  function sortBy(header) {
    var key = header.dataset.sort;
    sortDir = key === sortKey ? -sortDir : (key === "rank" ? -1 : 1);
    sortKey = key;
    section.querySelectorAll("th[data-sort]").forEach(function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
    sortShown();
    draw();
  }

  function start(loaded) {
    rows = loaded;
    section.querySelectorAll("th[data-sort] button").forEach(function (button) {
      button.addEventListener("click", function () { sortBy(button.parentElement); });
    });
    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(applyFilters, 150);
    });
    selects.forEach(function (s) { s.addEventListener("change", applyFilters); });
    prev.addEventListener("click", function () { page -= 1; draw(); });
    next.addEventListener("click", function () { page += 1; draw(); });
    section.classList.add("ready");
    applyFilters();
  }

  if (data.rows) {
    start(data.rows);
  } else if (typeof DecompressionStream === "function") {
    counter.textContent = labels.loading;
    var binary = atob(data.rowsGzip);
    var bytes = new Uint8Array(binary.length);
    for (var b = 0; b < binary.length; b += 1) { bytes[b] = binary.charCodeAt(b); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).text().then(function (text) { start(JSON.parse(text)); });
  } else {
    counter.textContent = labels.unsupported;
  }
}());
