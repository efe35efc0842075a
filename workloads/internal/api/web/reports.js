// The report page: reads /v1/reports and draws the report views as SVG
// charts, with no library and nothing from another origin. Every drawn
// value carries its number in data-value (and a <title> tooltip), so what
// the chart shows can be checked against PostgreSQL.
(function () {
  "use strict";
  const REFRESH_MS = 60000;
  const statusEl = document.getElementById("status");
  const form = document.getElementById("key-form");
  const keyInput = document.getElementById("key");
  const params = new URLSearchParams(location.search);
  const hours = params.get("hours") || "24";
  // to (a whole UTC hour) pins the window's end; without it the window
  // ends with the current hour and moves on.
  const to = params.get("to");
  let timer = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const svg = window.sluiceSVG;

  function hourLabel(iso) {
    return iso.slice(11, 16);
  }

  function fmt(n) {
    if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en");
    return String(Math.round(n * 100) / 100);
  }

  // frame draws the axes of a chart over the report's hours and returns
  // the plot with its x (hour index → px) and y (value → px) scales.
  function frame(hoursList, lo, hi, w, h) {
    const left = 34, bottom = 14, top = 6;
    const root = svg("svg", { viewBox: "0 0 " + w + " " + h, role: "img" });
    const n = Math.max(1, hoursList.length);
    const step = (w - left - 4) / n;
    if (hi <= lo) hi = lo + 1;
    const y = (v) => top + (h - top - bottom) * (1 - (v - lo) / (hi - lo));
    root.appendChild(svg("line", { class: "axis", x1: left, y1: h - bottom, x2: w - 4, y2: h - bottom }));
    root.appendChild(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: h - bottom }));
    const hiText = svg("text", { x: left - 3, y: top + 8, "text-anchor": "end" });
    hiText.textContent = fmt(hi);
    root.appendChild(hiText);
    const loText = svg("text", { x: left - 3, y: h - bottom, "text-anchor": "end" });
    loText.textContent = fmt(lo);
    root.appendChild(loText);
    const every = Math.max(1, Math.ceil(n / 6));
    hoursList.forEach((hr, i) => {
      if (i % every) return;
      const t = svg("text", { x: left + step * i, y: h - 2 });
      t.textContent = hourLabel(hr);
      root.appendChild(t);
    });
    return { root, x: (i) => left + step * i, step, y, base: h - bottom };
  }

  function card(title, note, data) {
    const c = el("div", "chart");
    for (const k in data) c.dataset[k] = data[k];
    const h = el("h3", null, title);
    if (note) h.appendChild(el("small", null, note));
    c.appendChild(h);
    return c;
  }

  function legend(items) {
    const p = el("p", "legend");
    for (const [cls, text] of items) {
      p.appendChild(el("span", "swatch " + cls));
      p.appendChild(document.createTextNode(text));
    }
    return p;
  }

  function index(hoursList) {
    const m = new Map();
    hoursList.forEach((h, i) => m.set(h, i));
    return m;
  }

  function drawSites(rep) {
    const at = index(rep.hours);
    const grid = document.getElementById("sites");
    const frag = document.createDocumentFragment();
    for (const s of rep.sites) {
      const c = card(s.name === "unknown" ? s.site + " (unknown site)" : s.name + " · " + s.site, fmt(s.events) + " events", { chart: "site", site: s.site });
      // Critical events are few beside all events: their own strip and
      // scale under the events, so one critical is still visible.
      const f = frame(rep.hours, 0, Math.max(...s.hours.map((p) => p.events)), 300, 100);
      const fc = frame(rep.hours, 0, Math.max(1, ...s.hours.map((p) => p.critical)), 300, 46);
      for (const p of s.hours) {
        const i = at.get(p.hour);
        if (i === undefined) continue;
        const w = Math.max(1, f.step - 1);
        f.root.appendChild(svg("rect", { class: "events", x: f.x(i), y: f.y(p.events), width: w, height: f.base - f.y(p.events),
          "data-hour": p.hour, "data-value": p.events }, hourLabel(p.hour) + " UTC: " + p.events + " events"));
        if (p.critical > 0) {
          fc.root.appendChild(svg("rect", { class: "critical", x: fc.x(i), y: fc.y(p.critical), width: w, height: fc.base - fc.y(p.critical),
            "data-hour": p.hour, "data-value": p.critical }, hourLabel(p.hour) + " UTC: " + p.critical + " critical"));
        }
      }
      c.appendChild(f.root);
      c.appendChild(fc.root);
      frag.appendChild(c);
    }
    grid.replaceChildren(frag);
    if (rep.sites.length) grid.appendChild(legend([["events", "events"], ["critical", "critical events"]]));
    document.getElementById("sites-note").textContent = rep.sites_omitted > 0
      ? "the " + rep.sites.length + " busiest; " + rep.sites_omitted + " more sites not shown" : "";
  }

  function drawKinds(rep) {
    const at = index(rep.hours);
    const frag = document.createDocumentFragment();
    for (const k of rep.kinds) {
      const c = card(k.kind, k.unit, { chart: "kind", kind: k.kind, unit: k.unit });
      const lo = Math.min(...k.hours.map((p) => p.min));
      const hi = Math.max(...k.hours.map((p) => p.max));
      const f = frame(rep.hours, lo, hi, 300, 110);
      const pts = k.hours.filter((p) => at.has(p.hour)).map((p) => ({ p, cx: f.x(at.get(p.hour)) + f.step / 2 }));
      if (pts.length) {
        const band = pts.map((q) => q.cx + "," + f.y(q.p.max)).concat(pts.slice().reverse().map((q) => q.cx + "," + f.y(q.p.min)));
        f.root.appendChild(svg("polygon", { class: "band", points: band.join(" ") }));
        f.root.appendChild(svg("polyline", { class: "mean", points: pts.map((q) => q.cx + "," + f.y(q.p.mean)).join(" ") }));
      }
      for (const q of pts) {
        f.root.appendChild(svg("circle", { class: "point", cx: q.cx, cy: f.y(q.p.mean), r: 2, "data-hour": q.p.hour, "data-value": q.p.mean,
          "data-min": q.p.min, "data-max": q.p.max, "data-events": q.p.events },
          hourLabel(q.p.hour) + " UTC: mean " + fmt(q.p.mean) + " " + k.unit + " (min " + fmt(q.p.min) + ", max " + fmt(q.p.max) + ", " + q.p.events + " events)"));
      }
      c.appendChild(f.root);
      frag.appendChild(c);
    }
    document.getElementById("kinds").replaceChildren(frag);
  }

  function drawHealth(rep) {
    const w = 420, row = 22, left = 92;
    const hi = Math.max(1, ...rep.health.map((s) => s.devices));
    const root = svg("svg", { viewBox: "0 0 " + w + " " + (row * rep.health.length + 4), role: "img" });
    rep.health.forEach((s, i) => {
      const y = 2 + row * i;
      const label = svg("text", { x: left - 6, y: y + 14, "text-anchor": "end" });
      label.textContent = s.status;
      root.appendChild(label);
      const bw = (w - left - 50) * s.devices / hi;
      root.appendChild(svg("rect", { class: "status-" + s.status, x: left, y: y + 3, width: Math.max(bw, 0.5), height: row - 6,
        "data-status": s.status, "data-value": s.devices }, s.devices + " devices " + s.status));
      const n = svg("text", { x: left + bw + 4, y: y + 14 });
      n.textContent = fmt(s.devices);
      root.appendChild(n);
    });
    document.getElementById("health").replaceChildren(root);
  }

  function drawUnknown(rep) {
    const at = index(rep.hours);
    const hi = Math.max(0, ...rep.unknown.map((u) => Math.max(u.unknown_site_events, u.unknown_device_events)));
    const f = frame(rep.hours, 0, hi, 420, 130);
    for (const u of rep.unknown) {
      const i = at.get(u.hour);
      if (i === undefined) continue;
      const w = Math.max(1, f.step / 2 - 0.5);
      for (const [cls, v, x, what] of [["unknown-site", u.unknown_site_events, f.x(i), "from unknown sites"],
        ["unknown-device", u.unknown_device_events, f.x(i) + w, "from unknown devices"]]) {
        if (v <= 0) continue;
        f.root.appendChild(svg("rect", { class: cls, x, y: f.y(v), width: w, height: f.base - f.y(v), "data-hour": u.hour, "data-value": v },
          hourLabel(u.hour) + " UTC: " + v + " events " + what));
      }
    }
    const box = document.getElementById("unknown");
    box.replaceChildren(f.root, legend([["unknown-site", "unknown site"], ["unknown-device", "unknown device"]]));
  }

  function render(rep) {
    drawSites(rep);
    drawKinds(rep);
    drawHealth(rep);
    drawUnknown(rep);
    document.getElementById("empty").hidden = rep.sites.length > 0;
    const fresh = rep.enriched_to ? "enriched up to " + rep.enriched_to.replace("T", " ").replace(/:00Z$/, " UTC") : "not enriched yet";
    statusEl.textContent = rep.hours.length + " hours from " + rep.from.replace("T", " ").slice(0, 16) + " UTC · " + fresh +
      " · updated " + new Date().toLocaleTimeString([], { hour12: false });
    statusEl.className = "";
    document.body.dataset.state = "ready";
  }

  async function load() {
    clearTimeout(timer);
    try {
      const resp = await fetch("/v1/reports?hours=" + encodeURIComponent(hours) + (to ? "&to=" + encodeURIComponent(to) : ""), { headers: window.sluiceKey.headers(), cache: "no-store" });
      if (resp.status === 401) {
        window.sluiceKey.ask(form, keyInput, load);
        statusEl.textContent = "an API key is needed";
        statusEl.className = "error";
        return;
      }
      if (!resp.ok) {
        let msg = "HTTP " + resp.status;
        try { msg = (await resp.json()).error.message; } catch (e) { /* not JSON */ }
        throw new Error(msg);
      }
      render(await resp.json());
    } catch (err) {
      statusEl.textContent = "reports unavailable: " + err.message + " (retrying)";
      statusEl.className = "error";
      document.body.dataset.state = "error";
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  load();
})();
