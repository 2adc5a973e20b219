/* oaa-concur report: sortable, filterable, paged tables over the inline JSON data.
   No network, no libraries. Cells are set with textContent only (never innerHTML).
   Open the file with "#selftest" (or "#selftest=<term>") to run the self-test that
   scripts/browser_check.py reads back from the DOM. */
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) { errors.push("error: " + e.message); });
  document.addEventListener("securitypolicyviolation", function (e) {
    errors.push("csp: " + e.violatedDirective + " " + e.blockedURI);
  });

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var SEVERITY = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  var sources = {
    grants: function () {
      return data.grants.map(function (g) {
        var u = data.users[g[0]], r = data.roles[g[1]];
        return [u[0], u[1], u[2], u[3], u[4], u[5], r[0], r[1], r[2], r[3], g[2], g[3]];
      });
    },
    findings: function () { return data.findings; }
  };

  function Grid(section) {
    var self = this, table = section.querySelector("table.grid");
    this.table = table;
    this.source = table.getAttribute("data-source");
    this.all = sources[this.source]();
    this.pageSize = parseInt(table.getAttribute("data-page"), 10);
    this.view = this.all.map(function (_, i) { return i; });
    this.page = 0;
    this.sortCol = -1;
    this.sortDir = 1;
    this.keys = null;
    this.tbody = table.tBodies[0];
    this.count = section.querySelector(".count");
    this.pager = section.querySelector(".pager");
    this.input = section.querySelector("input.filter");
    this.headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    this.headers.forEach(function (th, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(b);
      b.addEventListener("click", function () { self.sortBy(i); });
    });
    this.input.addEventListener("input", function () { self.filter(self.input.value); });
    this.render();
  }

  Grid.prototype.key = function (row, col) {
    if (this.source === "findings" && col === 0) return SEVERITY[row[0]];
    return String(row[col]).toLowerCase();
  };

  Grid.prototype.sortBy = function (col) {
    this.sortDir = this.sortCol === col ? -this.sortDir : 1;
    this.sortCol = col;
    this.headers.forEach(function (th) { th.removeAttribute("aria-sort"); });
    this.headers[col].setAttribute("aria-sort", this.sortDir > 0 ? "ascending" : "descending");
    this.applySort();
    this.page = 0;
    this.render();
  };

  Grid.prototype.applySort = function () {
    if (this.sortCol < 0) return;
    var self = this, col = this.sortCol, dir = this.sortDir;
    var keys = {};
    this.view.forEach(function (i) { keys[i] = self.key(self.all[i], col); });
    this.view.sort(function (a, b) {
      if (keys[a] < keys[b]) return -dir;
      if (keys[a] > keys[b]) return dir;
      return a - b;
    });
  };

  Grid.prototype.filter = function (text) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    if (!this.keys) {
      this.keys = this.all.map(function (r) { return r.join("\u0001").toLowerCase(); });
    }
    var keys = this.keys, view = [];
    for (var i = 0; i < keys.length; i++) {
      var ok = true;
      for (var w = 0; w < words.length && ok; w++) ok = keys[i].indexOf(words[w]) !== -1;
      if (ok) view.push(i);
    }
    this.view = view;
    this.applySort();
    this.page = 0;
    this.render();
  };

  Grid.prototype.render = function () {
    var n = this.view.length, pages = Math.max(1, Math.ceil(n / this.pageSize));
    if (this.page >= pages) this.page = pages - 1;
    var start = this.page * this.pageSize, end = Math.min(n, start + this.pageSize);
    var frag = document.createDocumentFragment();
    for (var i = start; i < end; i++) {
      var row = this.all[this.view[i]], tr = document.createElement("tr");
      for (var j = 0; j < row.length; j++) {
        var td = document.createElement("td");
        td.textContent = row[j];
        if (this.source === "findings" && j === 0) td.className = "sev sev-" + row[j];
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    this.tbody.replaceChildren(frag);
    var shown = n ? (start + 1) + "\u2013" + end : "0";
    var filtered = n !== this.all.length ? " (filtered from " + this.all.length + ")" : "";
    this.count.textContent = shown + " of " + n + filtered;
    this.renderPager(pages);
  };

  Grid.prototype.renderPager = function (pages) {
    var self = this, pager = this.pager;
    pager.replaceChildren();
    if (pages < 2) return;
    [["First", 0], ["Previous", this.page - 1], ["Next", this.page + 1], ["Last", pages - 1]]
      .forEach(function (spec) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = spec[0];
        b.className = "page-" + spec[0].toLowerCase();
        b.disabled = spec[1] < 0 || spec[1] >= pages || spec[1] === self.page;
        b.addEventListener("click", function () { self.page = spec[1]; self.render(); });
        pager.appendChild(b);
      });
    var label = document.createElement("span");
    label.textContent = " page " + (this.page + 1) + " of " + pages;
    pager.appendChild(label);
  };

  function column(grid, j) {
    return Array.prototype.map.call(grid.tbody.rows, function (tr) {
      return tr.cells[j].textContent;
    });
  }

  function selftest(grids, term) {
    var g = grids.grants, f = grids.findings, out = {};
    out.grants_total = g.all.length;
    out.initial_rows = g.tbody.rows.length;
    out.initial_count = g.count.textContent;
    g.headers[6].querySelector("button").click();
    out.asc = column(g, 6);
    out.asc_aria = g.headers[6].getAttribute("aria-sort");
    g.headers[6].querySelector("button").click();
    out.desc = column(g, 6);
    out.desc_aria = g.headers[6].getAttribute("aria-sort");
    var next = g.pager.querySelector(".page-next");
    if (next) { next.click(); out.page2_count = g.count.textContent; }
    g.input.value = term;
    g.input.dispatchEvent(new Event("input"));
    out.filter_term = term;
    out.filtered = g.view.length;
    out.filtered_count = g.count.textContent;
    out.filtered_rows = Array.prototype.map.call(g.tbody.rows, function (tr) {
      return Array.prototype.map.call(tr.cells, function (td) { return td.textContent; });
    });
    f.headers[0].querySelector("button").click();
    out.findings_total = f.all.length;
    out.findings_by_severity = column(f, 0);
    f.input.value = "critical";
    f.input.dispatchEvent(new Event("input"));
    out.findings_critical = f.view.length;
    out.errors = errors;
    var pre = document.getElementById("selftest-result");
    pre.textContent = JSON.stringify(out);
    pre.hidden = false;
  }

  var grids = {};
  Array.prototype.forEach.call(document.querySelectorAll("table.grid"), function (table) {
    var grid = new Grid(table.closest("section"));
    grids[grid.source] = grid;
  });
  var hash = decodeURIComponent(window.location.hash || "");
  if (hash.indexOf("#selftest") === 0) {
    selftest(grids, hash.length > 10 ? hash.slice(10) : "active");
  }
}());
