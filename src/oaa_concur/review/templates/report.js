/* oaa-concur report: the person and role views, and sortable, filterable, paged tables over
   the inline JSON data. No network, no libraries. Cells are set with textContent only (never
   innerHTML). Printing renders every row each table holds (and the page says what it left to
   the CSV). Open the file with "#selftest=<term>[@<width>]" to run the self-test that
   scripts/browser_check.py reads back from the DOM. */
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) { errors.push("error: " + e.message); });
  document.addEventListener("securitypolicyviolation", function (e) {
    errors.push("csp: " + e.violatedDirective + " " + e.blockedURI);
  });

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var SEVERITY = { critical: 0, high: 1, medium: 2, low: 3, info: 4, "": 5 };
  var ANY = "\u0000any";
  var P = { id: 0, name: 1, login: 2, email: 3, status: 4, number: 5, department: 6,
    costCenter: 7, terminated: 8, manager: 9, managerId: 10, findings: 11 };

  function fmt(n) { return Number(n).toLocaleString("en-US"); }

  function grantCells(g) {
    var u = data.people[g[0]], r = data.roles[g[1]];
    return [u[P.name], u[P.id], u[P.email], u[P.status], u[P.costCenter], u[P.manager],
      r[0], r[1], r[2], r[3], g[2], g[4], g[3]];
  }
  var sources = {
    grants: function () { return data.grants.map(grantCells); },
    findings: function () { return data.findings; },
    approvals: function () { return data.approvals; },
    delegations: function () { return data.delegations; }
  };
  var severityCol = { grants: 12, findings: 0 };

  function Grid(section) {
    var self = this, table = section.querySelector("table.grid");
    this.source = table.getAttribute("data-source");
    this.all = sources[this.source]();
    this.pageSize = parseInt(table.getAttribute("data-page"), 10);
    this.view = this.all.map(function (_, i) { return i; });
    this.page = 0;
    this.sortCol = -1;
    this.sortDir = 1;
    this.keys = null;
    this.words = [];
    this.printing = false;
    this.tbody = table.tBodies[0];
    this.count = section.querySelector(".count");
    this.pager = section.querySelector(".pager");
    this.input = section.querySelector("input.filter");
    this.selects = Array.prototype.slice.call(section.querySelectorAll("select.exact"));
    this.headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    this.headers.forEach(function (th, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(b);
      b.addEventListener("click", function () { self.sortBy(i); });
    });
    this.selects.forEach(function (sel) { self.fillSelect(sel); });
    this.input.addEventListener("input", function () { self.filter(); });
    this.render();
  }

  Grid.prototype.fillSelect = function (sel) {
    var self = this, col = parseInt(sel.getAttribute("data-col"), 10), seen = {};
    this.all.forEach(function (row) { seen[row[col]] = true; });
    var values = Object.keys(seen).sort(function (a, b) {
      if (severityCol[self.source] === col) return SEVERITY[a] - SEVERITY[b];
      return a < b ? -1 : a > b ? 1 : 0;
    });
    [ANY].concat(values).forEach(function (v) {
      var o = document.createElement("option");
      o.value = v;
      o.textContent = v === ANY ? "any" : v === "" ? "(none)" : v;
      sel.appendChild(o);
    });
    sel.addEventListener("change", function () { self.filter(); });
  };

  Grid.prototype.key = function (row, col) {
    if (severityCol[this.source] === col) return SEVERITY[row[col]];
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

  /* Words: every one must occur somewhere in the row (substring). Lists: exact match. */
  Grid.prototype.filter = function () {
    var words = this.input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var exact = this.selects.filter(function (s) { return s.value !== ANY; }).map(function (s) {
      return [parseInt(s.getAttribute("data-col"), 10), s.value];
    });
    if (!this.keys) {
      this.keys = this.all.map(function (r) { return r.join("\u0001").toLowerCase(); });
    }
    var keys = this.keys, all = this.all, view = [];
    for (var i = 0; i < keys.length; i++) {
      var ok = true;
      for (var e = 0; e < exact.length && ok; e++) ok = String(all[i][exact[e][0]]) === exact[e][1];
      for (var w = 0; w < words.length && ok; w++) ok = keys[i].indexOf(words[w]) !== -1;
      if (ok) view.push(i);
    }
    this.view = view;
    this.applySort();
    this.page = 0;
    this.render();
  };

  Grid.prototype.render = function () {
    var n = this.view.length, size = this.printing ? Math.max(n, 1) : this.pageSize;
    var pages = Math.max(1, Math.ceil(n / size));
    if (this.page >= pages) this.page = pages - 1;
    var start = this.printing ? 0 : this.page * size, end = Math.min(n, start + size);
    var frag = document.createDocumentFragment(), sev = severityCol[this.source];
    for (var i = start; i < end; i++) {
      var row = this.all[this.view[i]], tr = document.createElement("tr");
      for (var j = 0; j < row.length; j++) {
        var td = document.createElement("td");
        td.textContent = row[j];
        if (j === sev) td.className = "sev sev-" + row[j];
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    this.tbody.replaceChildren(frag);
    var shown = n ? fmt(start + 1) + "\u2013" + fmt(end) : "0";
    var filtered = n !== this.all.length ? " (filtered from " + fmt(this.all.length) + ")" : "";
    this.count.textContent = shown + " of " + fmt(n) + filtered;
    this.renderPager(this.printing ? 1 : pages);
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
    label.textContent = " page " + fmt(this.page + 1) + " of " + fmt(pages);
    pager.appendChild(label);
  };

  /* -- the person view ------------------------------------------------------------------ */

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function table(headers, rows, sevCol) {
    if (!rows.length) return el("p", "None.", "muted");
    var wrap = el("div", undefined, "scroll"), t = el("table"), head = el("tr");
    headers.forEach(function (h) { head.appendChild(el("th", h)); });
    t.appendChild(el("thead")).appendChild(head);
    var body = t.appendChild(el("tbody"));
    rows.forEach(function (r) {
      var tr = body.appendChild(el("tr"));
      r.forEach(function (v, j) {
        tr.appendChild(el("td", v, j === sevCol ? "sev sev-" + v : undefined));
      });
    });
    wrap.appendChild(t);
    return wrap;
  }

  var index = null;
  function buildIndex() {
    if (index) return index;
    index = { grants: {}, approvedBy: {}, approves: {}, delegates: {}, delegateFor: {}, findings: {},
      keys: data.people.map(function (u) {
        return [u[P.name], u[P.id], u[P.login], u[P.email], u[P.number]].join("\u0001").toLowerCase();
      }) };
    function push(map, key, value) { (map[key] = map[key] || []).push(value); }
    data.grants.forEach(function (g) { push(index.grants, g[0], g); });
    data.approvals.forEach(function (a) { push(index.approvedBy, a[0], a); push(index.approves, a[3], a); });
    data.delegations.forEach(function (d) { push(index.delegates, d[0], d); push(index.delegateFor, d[2], d); });
    data.findings.forEach(function (f) { index.findings[f[1]] = f; });
    return index;
  }

  function search(text) {
    var ix = buildIndex(), words = text.toLowerCase().split(/\s+/).filter(Boolean), hits = [];
    if (!words.length) return hits;
    for (var i = 0; i < ix.keys.length; i++) {
      var ok = true;
      for (var w = 0; w < words.length && ok; w++) ok = ix.keys[i].indexOf(words[w]) !== -1;
      if (ok) hits.push(i);
    }
    return hits;
  }

  function showHits(text) {
    var hits = search(text), list = document.getElementById("person-hits");
    list.replaceChildren();
    hits.slice(0, 20).forEach(function (i) {
      var u = data.people[i], b = el("button", u[P.name] + " (" + u[P.id] + ")");
      b.type = "button";
      b.addEventListener("click", function () { showPerson(i); });
      list.appendChild(el("li")).appendChild(b);
    });
    document.getElementById("person-count").textContent = text.trim()
      ? fmt(hits.length) + " of " + fmt(data.people.length) + " people shown match" +
        (hits.length > 20 ? " (first 20 listed)" : "")
      : "";
    return hits;
  }

  function facts(u) {
    var dl = el("dl", undefined, "facts");
    [["Id", u[P.id]], ["Login", u[P.login]], ["Email", u[P.email]], ["Status", u[P.status]],
     ["Employee number", u[P.number]], ["Department", u[P.department]],
     ["Cost center", u[P.costCenter]], ["Termination date", u[P.terminated]],
     ["Manager", u[P.manager] ? u[P.manager] + " (" + u[P.managerId] + ")" : u[P.managerId]]]
      .forEach(function (f) {
        if (!f[1]) return;
        dl.appendChild(el("dt", f[0]));
        dl.appendChild(el("dd", f[1]));
      });
    return dl;
  }

  function showPerson(i) {
    var ix = buildIndex(), u = data.people[i], id = u[P.id], view = document.getElementById("person-view");
    var grants = ix.grants[i] || [], products = [], roles = [];
    grants.forEach(function (g) {
      var r = data.roles[g[1]];
      if (r[0].indexOf("ENTITLEMENT_") === 0) products.push(r[2]);
      else roles.push([r[0], r[1], r[2], r[3], g[2], g[3], g[4]]);
    });
    var parts = [el("h3", u[P.name]), facts(u),
      el("h4", "Products"), el("p", products.length ? products.join(", ") : "None."),
      el("h4", "Spend roles"),
      table(["Role", "Name", "Product", "Privileged", "Scope", "Severity", "Findings"], roles, 5),
      el("h4", "Approves the items of"),
      table(["User", "User id", "Kind", "Primary"], (ix.approves[id] || []).map(function (a) {
        return [a[1], a[0], a[6], a[7]]; })),
      el("h4", "Is approved by"),
      table(["Approver", "Approver id", "Status", "Kind", "Primary"], (ix.approvedBy[id] || []).map(function (a) {
        return [a[4], a[3], a[5], a[6], a[7]]; })),
      el("h4", "Acts as delegate for"),
      table(["User", "User id", "Kind", "Rights", "State", "From", "To"], (ix.delegateFor[id] || []).map(function (d) {
        return [d[1], d[0], d[5], d[6], d[7], d[8], d[9]]; })),
      el("h4", "Their delegates"),
      table(["Delegate", "Delegate id", "Status", "Kind", "Rights", "State", "From", "To"], (ix.delegates[id] || []).map(function (d) {
        return [d[3], d[2], d[4], d[5], d[6], d[7], d[8], d[9]]; })),
      el("h4", "Findings"),
      table(["Severity", "Finding", "Title", "Explanation"], u[P.findings].split(" ").filter(Boolean).map(function (fid) {
        var f = ix.findings[fid];
        return f ? [f[0], f[1], f[3], f[4]] : ["", fid, "", "not shown here: in the findings table"]; }), 0)];
    view.replaceChildren.apply(view, parts);
    view.setAttribute("data-person", id);
  }

  /* -- the role view -------------------------------------------------------------------- */

  var ROLE_ROWS = 2000;
  function showRole(r) {
    var role = data.roles[r], body = document.querySelector("#role-holders tbody"), rows = [];
    data.grants.forEach(function (g) { if (g[1] === r) rows.push(g); });
    var frag = document.createDocumentFragment();
    rows.slice(0, ROLE_ROWS).forEach(function (g) {
      var u = data.people[g[0]], tr = el("tr");
      [u[P.name], u[P.id], u[P.status], g[2], g[3]].forEach(function (v, j) {
        tr.appendChild(el("td", v, j === 4 ? "sev sev-" + v : undefined));
      });
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    document.getElementById("role-count").textContent = fmt(Math.min(rows.length, ROLE_ROWS)) +
      " of " + fmt(role[4]) + " holders shown; all are in the CSV.";
    return rows.length;
  }

  function roleSelect() {
    var sel = document.getElementById("role-select");
    var order = data.roles.map(function (_, i) { return i; }).sort(function (a, b) {
      return data.roles[a][0] < data.roles[b][0] ? -1 : 1;
    });
    order.forEach(function (i) {
      var r = data.roles[i], o = el("option", r[0] + " \u2014 " + r[1] + " (" + fmt(r[4]) + ")");
      o.value = String(i);
      sel.appendChild(o);
    });
    sel.addEventListener("change", function () { showRole(parseInt(sel.value, 10)); });
    if (order.length) showRole(order[0]);
    return sel;
  }

  /* -- wiring, print, self-test ---------------------------------------------------------- */

  function column(grid, j) {
    return Array.prototype.map.call(grid.tbody.rows, function (tr) {
      return tr.cells[j].textContent;
    });
  }

  function choose(sel, value) {
    sel.value = value;
    sel.dispatchEvent(new Event("change"));
  }

  function selftest(grids, term, fit) {
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
    g.input.value = "";
    var status = g.selects[1];
    choose(status, "inactive");
    out.status_inactive = g.view.length;
    choose(status, ANY);
    window.dispatchEvent(new Event("beforeprint"));
    out.print_rows = g.tbody.rows.length;
    out.print_view = g.view.length;
    window.dispatchEvent(new Event("afterprint"));
    out.after_print_rows = g.tbody.rows.length;
    f.headers[0].querySelector("button").click();
    out.findings_total = f.all.length;
    out.findings_by_severity = column(f, 0);
    choose(f.selects[0], "critical");
    out.findings_critical = f.view.length;
    var box = document.getElementById("person-search");
    box.value = term;
    box.dispatchEvent(new Event("input"));
    var hits = document.querySelectorAll("#person-hits button");
    out.person_hits = search(term).length;
    out.person_buttons = hits.length;
    if (hits.length) {
      hits[0].click();
      var view = document.getElementById("person-view");
      out.person_id = view.getAttribute("data-person");
      out.person_heading = view.querySelector("h3").textContent;
      out.person_sections = Array.prototype.map.call(view.querySelectorAll("h4"), function (h) {
        return h.textContent;
      });
    }
    out.role_options = document.getElementById("role-select").options.length;
    /* laid out at the width asked for (headless Chromium keeps windows >= 500 px wide) */
    out.width = fit || window.innerWidth;
    document.body.style.width = out.width + "px";
    out.scroll_width = Math.max(document.body.scrollWidth, document.documentElement.scrollWidth > window.innerWidth ? document.documentElement.scrollWidth : 0);
    document.body.style.width = "";
    out.errors = errors;
    var pre = document.getElementById("selftest-result");
    pre.textContent = JSON.stringify(out);
    pre.hidden = false;
  }

  var grids = {};
  Array.prototype.forEach.call(document.querySelectorAll("table.grid"), function (t) {
    var grid = new Grid(t.closest("section"));
    grids[grid.source] = grid;
  });
  window.addEventListener("beforeprint", function () {
    Object.keys(grids).forEach(function (k) { grids[k].printing = true; grids[k].render(); });
  });
  window.addEventListener("afterprint", function () {
    Object.keys(grids).forEach(function (k) { grids[k].printing = false; grids[k].render(); });
  });
  var box = document.getElementById("person-search");
  box.addEventListener("input", function () { showHits(box.value); });
  roleSelect();
  var hash = decodeURIComponent(window.location.hash || "");
  if (hash.indexOf("#selftest") === 0) {
    var spec = /^#selftest(?:=(.*?))?(?:@(\d+))?$/.exec(hash) || [];
    selftest(grids, spec[1] || "active", spec[2] ? parseInt(spec[2], 10) : 0);
  } else if (hash.indexOf("#person=") === 0) {
    /* a link to one person: report.html#person=<id> */
    var wanted = hash.slice(8), at = data.people.map(function (u) { return u[P.id]; }).indexOf(wanted);
    box.value = wanted;
    showHits(wanted);
    if (at >= 0) { showPerson(at); document.getElementById("person").scrollIntoView(); }
  }
}());
