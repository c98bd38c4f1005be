// offsetlag status page: refreshes from the JSON API, sorts and filters the
// groups table, ticks expiry countdowns. Vanilla JS, no build step. Every
// value from the API is written with textContent, never as HTML.
(function () {
  "use strict";
  var body = document.body;
  var kind = body.dataset.kind;
  var api = body.dataset.api;
  var refresh = parseInt(body.dataset.refresh, 10) || 5000;
  var clockSkew = 0; // server time minus browser time, in ms
  var lastFetch = 0;
  var failed = false;

  // --- formatting (mirrors statuspage.go) ---
  function fmtInt(n) {
    if (n === null || n === undefined) return "–";
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function pad2(n) { return (n < 10 ? "0" : "") + n; }
  function fmtSecs(s) {
    if (s === null || s === undefined) return "–";
    if (s < 0) s = 0;
    if (s < 10) return s.toFixed(1) + "s";
    if (s < 60) return s.toFixed(0) + "s";
    var n = Math.floor(s);
    if (n < 3600) return Math.floor(n / 60) + "m " + pad2(n % 60) + "s";
    if (n < 86400) return Math.floor(n / 3600) + "h " + pad2(Math.floor(n % 3600 / 60)) + "m";
    return Math.floor(n / 86400) + "d " + pad2(Math.floor(n % 86400 / 3600)) + "h";
  }
  // exactTime mirrors statuspage.go: "2026-11-30 11:26:46 UTC".
  function exactTime(iso) {
    var t = new Date(iso);
    return isNaN(t) ? String(iso) : t.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }
  function relTime(iso) {
    var d = (Date.parse(iso) - serverNow()) / 1000;
    return d >= 0.05 ? "in " + fmtSecs(d) : fmtSecs(-d) + " ago";
  }
  // timeEl: a relative time, exact on hover, kept current by tickCountdowns.
  function timeEl(iso) {
    if (!iso) return document.createTextNode("–");
    var t = el("time", "rel", relTime(iso));
    t.dateTime = iso;
    t.title = exactTime(iso);
    return t;
  }
  function fmtRate(v) { return v === null || v === undefined ? "–" : v.toFixed(1) + "/s"; }
  function fmtNiceInt(n) { return fmtInt(n); }
  function stateClass(s) { return "s-" + String(s || "").replace(/[^a-zA-Z]/g, "").toLowerCase(); }
  function serverNow() { return Date.now() + clockSkew; }
  // Mirrors groupPath in statuspage.go: "." and ".." go in the query, since
  // browsers drop such path segments even escaped.
  function dotSegment(s) { return s === "." || s === ".."; }
  function groupPath(c, g) {
    if (dotSegment(c) || dotSegment(g)) return "/group?cluster=" + encodeURIComponent(c) + "&group=" + encodeURIComponent(g);
    return "/groups/" + encodeURIComponent(c) + "/" + encodeURIComponent(g);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function td(text, cls) { return el("td", cls, text); }

  function stateEl(g) {
    return g.present ? el("span", "state " + stateClass(g.state), g.state) : el("span", "state s-gone", "gone");
  }
  function statusEl(s) { return el("span", "status st-" + String(s).toLowerCase(), s); }

  // badges mirrors the "badges" template.
  function badges(g) {
    var out = [];
    var x = g.expiry;
    if (x) {
      if (x.expired) {
        var b = el("span", "badge expired", "expired");
        b.title = "committed offsets expired on " + (x.expired_topics || []).join(", ") + (x.expired_at ? " at " + exactTime(x.expired_at) : "");
        out.push(b);
      } else if (x.expires_at) {
        var e = el("span", "badge expiring", "");
        e.dataset.expiresAt = x.expires_at;
        e.title = "no members: the brokers delete the committed offsets at " + exactTime(x.expires_at);
        e.textContent = "expires in " + fmtSecs(x.expires_in_seconds);
        out.push(e);
      }
      if (x.missing) {
        var m = el("span", "badge missing", "missing");
        m.title = "expected group without committed offsets";
        out.push(m);
      }
      (x.lambda || []).forEach(function (l) {
        var lb = el("span", "badge lambda" + (l.expires_within_horizon ? " expiring" : ""), "\u03bb " + l.function_name);
        lb.title = "Lambda event source mapping " + l.esm_uuid + " (" + l.esm_state + ", starting position " +
          (l.starting_position || "") + ")" + (l.expires_within_horizon ? ": disabled, its offsets expire within the horizon" : "");
        out.push(lb);
      });
    }
    if (g.out_of_range) {
      var o = el("span", "badge oor", "out of range");
      o.title = g.out_of_range + " partitions committed below the log start; " + fmtInt(g.records_lost) + " records lost to retention";
      out.push(o);
    }
    if (g.partitions_without_commit) {
      var n = el("span", "badge nocommit", g.partitions_without_commit + " uncommitted");
      n.title = "partitions of the group's topics without a committed offset";
      out.push(n);
    }
    return out;
  }
  function fill(parent, nodes) {
    parent.textContent = "";
    nodes.forEach(function (n) { parent.appendChild(n); });
  }

  function tickCountdowns() {
    var now = serverNow();
    document.querySelectorAll(".badge.expiring[data-expires-at]").forEach(function (b) {
      var left = (Date.parse(b.dataset.expiresAt) - now) / 1000;
      b.textContent = left > 0 ? "expires in " + fmtSecs(left) : "expiring now";
    });
    document.querySelectorAll("time.rel[datetime]").forEach(function (t) {
      t.textContent = relTime(t.getAttribute("datetime"));
    });
    var live = document.getElementById("live");
    if (live && lastFetch) {
      var age = (Date.now() - lastFetch) / 1000;
      live.textContent = failed ? "refresh failed, retrying" : "updated " + fmtSecs(age) + " ago";
      live.classList.toggle("stale", failed || age * 1000 > refresh * 3);
    }
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      var date = Date.parse(r.headers.get("Date") || "");
      if (!isNaN(date)) clockSkew = date + 500 - Date.now(); // Date has whole seconds
      return r.json();
    });
  }
  function fetched() {
    lastFetch = Date.now();
    failed = false;
  }

  // --- index page ---
  var severity = { OK: 0, WARN: 1, STALL: 2, STOP: 3, REWIND: 4, EXPIRED: 5, ERR: 6 };
  var view = { groups: null, key: "group", desc: false, filter: "", problems: false };
  try {
    var saved = JSON.parse(sessionStorage.getItem("offsetlag.view") || "{}");
    ["key", "desc", "filter", "problems"].forEach(function (k) { if (k in saved) view[k] = saved[k]; });
  } catch (e) { /* private mode */ }
  function saveView() {
    try {
      sessionStorage.setItem("offsetlag.view", JSON.stringify({ key: view.key, desc: view.desc, filter: view.filter, problems: view.problems }));
    } catch (e) { /* ignore */ }
  }

  function sortValue(g, key) {
    switch (key) {
      case "status": return g.status ? severity[g.status] : -1;
      case "expiry":
        if (!g.expiry) return Infinity;
        if (g.expiry.expired) return -Infinity;
        if (g.expiry.expires_at) return Date.parse(g.expiry.expires_at);
        return g.expiry.missing ? -1e15 : Infinity;
      case "state": return g.present ? String(g.state || "") : "~gone";
      default: return g[key];
    }
  }
  function compare(a, b) {
    var va = sortValue(a, view.key), vb = sortValue(b, view.key);
    var nullA = va === null || va === undefined, nullB = vb === null || vb === undefined;
    if (nullA || nullB) return nullA === nullB ? 0 : (nullA ? 1 : -1); // unknowns last
    var c = typeof va === "string" ? va.localeCompare(vb) : (va < vb ? -1 : va > vb ? 1 : 0);
    if (view.desc) c = -c;
    return c || a.cluster.localeCompare(b.cluster) || a.group.localeCompare(b.group);
  }
  function isProblem(g) {
    var x = g.expiry || {};
    return !g.present || (g.status && g.status !== "OK") || x.expired || x.expires_at || x.missing ||
      g.out_of_range > 0 || (g.state && g.state !== "Stable");
  }
  function matches(g, words) {
    if (view.problems && !isProblem(g)) return false;
    if (!words.length) return true;
    var x = g.expiry || {};
    var hay = [g.cluster, g.group, g.type, g.present ? g.state : "gone", g.status].concat(g.topics || []);
    if (x.expired) hay.push("expired");
    if (x.expires_at) hay.push("expiring");
    if (x.missing) hay.push("missing");
    (x.lambda || []).forEach(function (l) { hay.push("lambda " + l.function_name + " " + l.esm_state); });
    if (g.out_of_range) hay.push("out of range");
    hay = hay.join(" ").toLowerCase();
    return words.every(function (w) { return hay.indexOf(w) >= 0; });
  }

  function row(g) {
    var tr = el("tr");
    tr.dataset.group = g.group;
    tr.appendChild(td(g.cluster, "opt"));
    var name = td(null, "name");
    var a = el("a", null, g.group);
    a.href = groupPath(g.cluster, g.group);
    name.appendChild(a);
    if (g.topics && g.topics.length) name.appendChild(el("div", "topics", g.topics.join(", ")));
    tr.appendChild(name);
    tr.appendChild(td(g.type || "", "opt"));
    var st = td(); st.appendChild(stateEl(g)); tr.appendChild(st);
    tr.appendChild(td(g.present ? String(g.members) : "–", "num opt"));
    tr.appendChild(td(fmtInt(g.sum_lag), "num"));
    tr.appendChild(td(fmtSecs(g.max_lag_seconds), "num opt"));
    var s = td(); if (g.status) s.appendChild(statusEl(g.status)); tr.appendChild(s);
    var b = td(null, "badges"); fill(b, badges(g)); tr.appendChild(b);
    return tr;
  }

  function renderGroups() {
    if (!view.groups) return;
    var words = view.filter.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = view.groups.filter(function (g) { return matches(g, words); }).sort(compare);
    var tbody = document.querySelector("#groups tbody");
    var rows = shown.map(row);
    if (!rows.length) {
      var tr = el("tr", "empty");
      var c = td(view.groups.length ? "No group matches the filter." : "No consumer groups yet.");
      c.colSpan = 9;
      tr.appendChild(c);
      rows = [tr];
    }
    fill(tbody, rows);
    document.getElementById("count").textContent =
      shown.length === view.groups.length ? String(shown.length) : shown.length + " of " + view.groups.length;
    document.querySelectorAll("#groups th[data-key]").forEach(function (th) {
      th.classList.toggle("sorted", th.dataset.key === view.key);
      th.classList.toggle("desc", th.dataset.key === view.key && view.desc);
      th.setAttribute("aria-sort", th.dataset.key === view.key ? (view.desc ? "descending" : "ascending") : "none");
    });
    tickCountdowns();
  }

  function clusterCard(c) {
    var art = el("article", "cluster " + (c.up ? "up" : "down"));
    art.dataset.cluster = c.name;
    var h = el("h2");
    h.appendChild(el("span", "dot"));
    h.appendChild(document.createTextNode(c.name + " "));
    h.appendChild(el("small", null, c.up ? "up" : "down"));
    art.appendChild(h);
    var dl = el("dl");
    function fact(label, value) {
      var d = el("div");
      d.appendChild(el("dt", null, label));
      var dd = el("dd");
      if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
      d.appendChild(dd);
      dl.appendChild(d);
      return dd;
    }
    fact("Brokers", String(c.brokers));
    fact("Topics", String(c.topics));
    var gd = fact("Groups", String(c.groups));
    if (c.groups_not_listed) {
      gd.appendChild(document.createTextNode(" "));
      gd.appendChild(el("small", "muted", "(" + c.groups_not_listed + " gone)"));
      gd.title = c.groups_not_listed + " of them no longer listed by the brokers (offsets expired, or expected and missing)";
    }
    fact("Last poll", c.last_poll ? timeEl(c.last_poll) : "never");
    fact("Poll took", Math.round(c.poll_duration_seconds * 1000) + " ms");
    fact("Polls / errors", c.polls + " / " + c.poll_errors);
    if (c.offsets_retention_seconds) fact("Offsets retention", fmtSecs(c.offsets_retention_seconds)).title = "source: " + c.offsets_retention_source;
    art.appendChild(dl);
    if (c.last_error) art.appendChild(el("p", "error", c.last_error));
    return art;
  }

  function refreshIndex() {
    return Promise.all([getJSON("/api/v1/clusters"), getJSON(api)]).then(function (r) {
      fetched();
      fill(document.getElementById("clusters"), r[0].clusters.map(clusterCard));
      view.groups = r[1].groups;
      renderGroups();
    });
  }

  function initIndex() {
    var filter = document.getElementById("filter");
    var problems = document.getElementById("problems");
    filter.value = view.filter;
    problems.checked = view.problems;
    filter.addEventListener("input", function () { view.filter = filter.value; saveView(); renderGroups(); });
    problems.addEventListener("change", function () { view.problems = problems.checked; saveView(); renderGroups(); });
    document.querySelectorAll("#groups th[data-key]").forEach(function (th) {
      th.tabIndex = 0;
      function sort() {
        if (view.key === th.dataset.key) view.desc = !view.desc;
        else { view.key = th.dataset.key; view.desc = th.dataset.type === "num" || th.dataset.type === "status"; }
        saveView();
        renderGroups();
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    return refreshIndex;
  }

  // --- group page ---
  var SVG = "http://www.w3.org/2000/svg";
  // Geometry mirrors chart.go.
  var CW = 720, CH = 200, CL = 64, CR = 12, CT = 12, CB = 26, PW = CW - CL - CR, PH = CH - CT - CB;
  function niceMax(v) {
    if (v < 1) return 1;
    for (var m = 1; ; m *= 10) {
      var f = [1, 2, 5];
      for (var i = 0; i < f.length; i++) if (f[i] * m >= v) return f[i] * m;
    }
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function drawChart(points, name, present) {
    var s = svg("svg", { viewBox: "0 0 " + CW + " " + CH, role: "img", "aria-label": "Lag of " + name + " over the last " + points.length + " polls" });
    var bottom = CT + PH, mid = CT + PH / 2;
    s.appendChild(svg("line", { "class": "grid", x1: CL, y1: CT, x2: CW - CR, y2: CT }));
    s.appendChild(svg("line", { "class": "grid", x1: CL, y1: mid, x2: CW - CR, y2: mid }));
    s.appendChild(svg("line", { "class": "axis", x1: CL, y1: bottom, x2: CW - CR, y2: bottom }));
    if (!points.length) {
      s.appendChild(svg("text", { "class": "label empty", x: CL + PW / 2, y: mid, "text-anchor": "middle" }, "no lag to chart"));
      return s;
    }
    var maxLag = 0;
    points.forEach(function (p) { maxLag = Math.max(maxLag, p.sum_lag); });
    var ymax = niceMax(maxLag);
    var t0 = Date.parse(points[0].time), span = Math.max(Date.parse(points[points.length - 1].time) - t0, 1000);
    var xy = points.map(function (p) {
      var x = points.length === 1 ? CL + PW : CL + (Date.parse(p.time) - t0) / span * PW;
      return [x, CT + (1 - p.sum_lag / ymax) * PH];
    });
    var line = xy.map(function (q) { return q[0].toFixed(1) + "," + q[1].toFixed(1); }).join(" ");
    var last = xy[xy.length - 1];
    s.appendChild(svg("polygon", { "class": "area", points: xy[0][0].toFixed(1) + "," + bottom + " " + line + " " + last[0].toFixed(1) + "," + bottom }));
    s.appendChild(svg("polyline", { "class": "line", points: line }));
    s.appendChild(svg("circle", { "class": "last", cx: last[0].toFixed(1), cy: last[1].toFixed(1), r: 3.5 }));
    s.appendChild(svg("text", { "class": "label", x: CL, y: CT, dx: -8, dy: 4, "text-anchor": "end" }, fmtNiceInt(ymax)));
    s.appendChild(svg("text", { "class": "label", x: CL, y: mid, dx: -8, dy: 4, "text-anchor": "end" }, fmtNiceInt(Math.floor(ymax / 2))));
    s.appendChild(svg("text", { "class": "label", x: CL, y: bottom, dx: -8, dy: 4, "text-anchor": "end" }, "0"));
    s.appendChild(svg("text", { "class": "label", x: CL, y: CH, dy: -6 }, "−" + fmtSecs(span / 1000)));
    s.appendChild(svg("text", { "class": "label", x: CW - CR, y: CH, dy: -6, "text-anchor": "end" }, present ? "last poll" : "last poll that listed it"));
    return s;
  }

  function withText(node, text) {
    if (!text) return node;
    var f = document.createDocumentFragment();
    f.appendChild(node);
    f.appendChild(document.createTextNode(text));
    return f;
  }
  function facts(pairs, cls) {
    var dl = el("dl", cls);
    pairs.forEach(function (p) {
      if (!p) return;
      var d = el("div", p[2] || null);
      d.appendChild(el("dt", null, p[0]));
      var dd = el("dd");
      if (p[1] instanceof Node) dd.appendChild(p[1]); else dd.textContent = p[1];
      d.appendChild(dd);
      dl.appendChild(d);
    });
    return dl;
  }

  function renderGroup(d) {
    fill(document.getElementById("badges"), badges(d));
    var x = d.expiry || {};
    var pairs = [
      ["Cluster", d.cluster], ["Type", d.type || ""], ["State", stateEl(d)], ["Members", String(d.members)],
      ["Lag", fmtInt(d.sum_lag)], ["Max partition lag", fmtInt(d.max_lag)], ["Time lag", fmtSecs(d.max_lag_seconds)],
      ["Status", d.status ? statusEl(d.status) : "–"],
      x.empty_since ? ["Empty since", withText(timeEl(x.empty_since), x.empty_since_exact ? "" : " (or earlier)")] : null,
      x.expires_at ? ["Offsets expire", timeEl(x.expires_at)] : null,
      x.expired ? ["Offsets expired", withText(timeEl(x.expired_at), " (" + (x.expired_topics || []).join(", ") + ")")] : null
    ];
    // Mirrors the records-at-risk lines of group.html.
    (x.records_at_risk || []).forEach(function (r) {
      var label = x.expired ? "When a consumer starts again (commits gone)" : "If restarted without its commits";
      var what = r.starting_position === "earliest" ? " records reprocessed (starting from earliest)" :
        r.starting_position === "latest" ? " records skipped (starting from latest)" :
        " records at risk (starting from " + r.starting_position + ")";
      pairs.push([label, fmtInt(r.records) + what, "risk"]);
    });
    var old = document.getElementById("facts");
    var dl = facts(pairs, "facts");
    dl.id = "facts";
    old.replaceWith(dl);
    fill(document.getElementById("chart"), [drawChart(d.history, d.group, d.present)]);
    document.getElementById("chart-note").textContent = d.history_note || "";

    var sections = d.topic_details.map(function (t) {
      var sec = el("section", "panel topic");
      var h = el("h2", null, t.topic + " ");
      h.appendChild(statusEl(t.status));
      sec.appendChild(h);
      sec.appendChild(facts([["Lag", fmtInt(t.sum_lag)], ["Time lag", fmtSecs(t.max_lag_seconds)],
        ["Produce rate", fmtRate(t.produce_rate)], ["Consume rate", fmtRate(t.consume_rate)],
        ["Catch-up", fmtSecs(t.catch_up_seconds)], t.out_of_range ? ["Records lost", fmtInt(t.records_lost)] : null], "facts small"));
      var wrap = el("div", "scroll");
      var table = el("table", "partitions");
      var head = el("tr");
      [["Partition", "num"], ["Committed", "num"], ["Log end", "num"], ["Lag", "num"], ["Lag bar", "opt"], ["Time lag", "num"], ["Source", "opt"], ["Status"]]
        .forEach(function (c) { head.appendChild(el("th", c[1], c[0])); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var tbody = el("tbody");
      t.partitions.forEach(function (p) {
        var tr = el("tr", p.out_of_range ? "oor" : null);
        tr.appendChild(td(String(p.partition), "num"));
        tr.appendChild(td(fmtInt(p.committed), "num"));
        tr.appendChild(td(fmtInt(p.end), "num"));
        tr.appendChild(td(fmtInt(p.lag), "num"));
        var bar = td(null, "bar opt");
        var w = p.lag && d.max_lag > 0 ? Math.min(100, p.lag * 100 / d.max_lag) : 0;
        var bs = svg("svg", { viewBox: "0 0 100 8", preserveAspectRatio: "none", "aria-hidden": "true" });
        bs.appendChild(svg("rect", { "class": "track", width: 100, height: 8 }));
        bs.appendChild(svg("rect", { width: w.toFixed(1), height: 8 }));
        bar.appendChild(bs);
        tr.appendChild(bar);
        tr.appendChild(td(fmtSecs(p.lag_seconds), "num"));
        tr.appendChild(td(p.lag_seconds_source || "", "opt"));
        var st = td();
        st.appendChild(statusEl(p.status));
        if (p.out_of_range) {
          st.appendChild(document.createTextNode(" "));
          var o = el("span", "badge oor", "out of range");
          o.title = fmtInt(p.records_lost) + " records lost to retention";
          st.appendChild(o);
        }
        tr.appendChild(st);
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      wrap.appendChild(table);
      sec.appendChild(wrap);
      return sec;
    });
    if (!sections.length) {
      var sec = el("section", "panel topic");
      sec.appendChild(el("p", "muted", "No committed offsets" + (d.present ? "" : " (the group is gone)") + "."));
      sections = [sec];
    }
    fill(document.getElementById("topics"), sections);
    tickCountdowns();
  }

  function refreshGroup() {
    return getJSON(api).then(function (d) { fetched(); renderGroup(d); });
  }

  // --- start ---
  var refresher = kind === "index" ? initIndex() : kind === "group" ? refreshGroup : null;
  if (!refresher) return;
  var now = Date.parse(body.dataset.now || "");
  if (!isNaN(now)) clockSkew = now - Date.now();
  function loop() {
    refresher().catch(function (e) {
      failed = true;
      if (window.console) console.warn("offsetlag: refresh failed:", e);
    }).then(function () {
      tickCountdowns();
      setTimeout(loop, refresh);
    });
  }
  loop();
  setInterval(tickCountdowns, 1000);
})();
