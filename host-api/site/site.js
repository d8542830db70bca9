/* etlhost site: search and filters of index.html, over window.SITE_INDEX (search-index.js).
 * Rows are in the page already; this only hides those that do not match. Nothing from the
 * catalog is ever inserted as HTML: option labels go through textContent. */
(function () {
  "use strict";
  var table = document.getElementById("dashboards");
  var index = window.SITE_INDEX;
  if (!table || !Array.isArray(index)) return;
  var q = document.getElementById("q");
  var fCollection = document.getElementById("f-collection");
  var fOwner = document.getElementById("f-owner");
  var fFresh = document.getElementById("f-fresh");
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");
  var rows = table.tBodies[0].rows;
  var DAY = 86400000;

  function haystack(e) {
    return [e.name, e.collection, e.description].concat(e.owners, e.charts, e.models, e.tables)
      .filter(function (s) { return typeof s === "string"; }).join("\n").toLowerCase();
  }
  var texts = index.map(haystack);

  function fill(select, values) {
    var seen = {};
    values.filter(function (v) {
      if (typeof v !== "string" || !v || seen[v]) return false;
      seen[v] = true;
      return true;
    }).sort(function (a, b) { return a.localeCompare(b); }).forEach(function (v) {
      var o = document.createElement("option");
      o.value = v;
      o.textContent = v;
      select.appendChild(o);
    });
  }
  fill(fCollection, index.map(function (e) { return e.collection; }));
  fill(fOwner, [].concat.apply([], index.map(function (e) { return e.owners; })));

  function fresh(e, want, now) {
    if (!want) return true;
    if (want === "failed") return e.lastRunState === "failed";
    var t = e.lastRunAt ? Date.parse(e.lastRunAt) : NaN;
    if (want === "never") return isNaN(t);
    if (isNaN(t)) return false;
    var days = (now - t) / DAY;
    if (want === "old") return days > 365;
    return days <= Number(want);
  }

  function apply() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var now = Date.now(), shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var n = Number(rows[i].getAttribute("data-i"));
      var e = index[n];
      var ok = !!e && words.every(function (w) { return texts[n].indexOf(w) !== -1; }) &&
        (!fCollection.value || e.collection === fCollection.value) &&
        (!fOwner.value || e.owners.indexOf(fOwner.value) !== -1) &&
        fresh(e, fFresh.value, now);
      rows[i].hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = shown === rows.length ? rows.length + " dashboards"
      : shown + " of " + rows.length + " dashboards";
    empty.hidden = shown !== 0;
  }

  var params = new URLSearchParams(window.location.search);
  if (params.has("q")) q.value = params.get("q");
  document.getElementById("filters").addEventListener("submit", function (ev) { ev.preventDefault(); });
  [q, fCollection, fOwner, fFresh].forEach(function (el) {
    el.addEventListener(el === q ? "input" : "change", apply);
  });
  apply();
})();
