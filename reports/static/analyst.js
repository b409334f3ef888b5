/* Analyst report: search, filters, sortable columns and expandable findings.
   Plain JavaScript with no dependencies; the report must work offline as one file.
   Customer strings are read from the DOM or from JSON.parse, never inserted as HTML. */
(function () {
  "use strict";
  var section = document.getElementById("findings");
  var configNode = document.getElementById("report-config");
  if (!section || !configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var table = section.querySelector("table.findings-table");
  var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody.finding"));
  var noMatch = table.querySelector("tbody.no-match");
  var search = section.querySelector("input[data-filter=text]");
  var selects = Array.prototype.slice.call(section.querySelectorAll("select[data-filter]"));
  var counter = section.querySelector(".shown-count");
  var searchText = {};
  config.search.forEach(function (entry) { searchText[entry.id] = entry.text; });

  function setExpanded(body, expanded) {
    var button = body.querySelector("button.toggle");
    body.querySelector("tr.detail-row").hidden = !expanded;
    button.setAttribute("aria-expanded", String(expanded));
    button.title = expanded ? config.labels.collapse : config.labels.expand;
    body.classList.toggle("open", expanded);
  }

  function matches(body, terms) {
    var haystack = searchText[body.id] || "";
    var textOk = terms.every(function (term) { return haystack.indexOf(term) !== -1; });
    return textOk && selects.every(function (select) {
      return !select.value || body.dataset[select.dataset.filter] === select.value;
    });
  }

  function applyFilters() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    bodies.forEach(function (body) {
      var visible = matches(body, terms);
      body.hidden = !visible;
      if (visible) { shown += 1; }
    });
    noMatch.hidden = shown !== 0;
    counter.textContent = config.labels.showing
      .replace("{shown}", String(shown)).replace("{total}", String(bodies.length));
  }

  function compare(key, numeric, direction) {
    return function (a, b) {
      var x = a.dataset[key] || "";
      var y = b.dataset[key] || "";
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, config.lang);
      return order * direction;
    };
  }

  function sortBy(header) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    section.querySelectorAll("th[data-sort]").forEach(function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var sorted = bodies.slice().sort(
      compare(header.dataset.sort, header.dataset.type === "num", ascending ? 1 : -1));
    sorted.forEach(function (body) { table.insertBefore(body, noMatch); });
  }

  bodies.forEach(function (body) {
    setExpanded(body, false);
    body.querySelector("button.toggle").addEventListener("click", function () {
      setExpanded(body, body.querySelector("tr.detail-row").hidden);
    });
  });
  section.querySelectorAll("th[data-sort] button").forEach(function (button) {
    button.addEventListener("click", function () { sortBy(button.parentElement); });
  });
  search.addEventListener("input", applyFilters);
  selects.forEach(function (select) { select.addEventListener("change", applyFilters); });
  applyFilters();
}());
