// The live page: polls /v1/live and renders each site's newest critical
// events, marking the ones that arrived since the last poll.
(function () {
  "use strict";
  const pollMs = Number(document.body.dataset.pollMs) || 1000;
  const sitesEl = document.getElementById("sites");
  const statusEl = document.getElementById("status");
  const emptyEl = document.getElementById("empty");
  const form = document.getElementById("key-form");
  const keyInput = document.getElementById("key");
  // When each event was first shown: events newer than NEW_MS are marked.
  const firstSeen = new Map();
  const NEW_MS = 5000;
  let first = true;
  let timer = null;
  // The stream job's last hour per site (events per minute over every
  // kind) and its silent devices, fetched every STREAM_MS per site shown.
  const STREAM_MS = 30000;
  const stream = new Map();

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmtTime(iso) {
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString([], { hour12: false });
  }

  function render(data) {
    const frag = document.createDocumentFragment();
    let count = 0;
    for (const site of data.sites) {
      const card = el("section", "site");
      card.dataset.site = site.site;
      const h = el("h2", null, site.site);
      h.appendChild(el("small", null, site.events.length + " shown"));
      card.appendChild(h);
      const list = el("ol");
      for (const ev of site.events) {
        count++;
        const li = el("li", "ev");
        li.dataset.eventId = ev.id;
        const now = Date.now();
        if (!firstSeen.has(ev.id)) firstSeen.set(ev.id, first ? 0 : now);
        if (now - firstSeen.get(ev.id) < NEW_MS) li.classList.add("new");
        const t = el("time", null, fmtTime(ev.at));
        t.dateTime = ev.at;
        li.appendChild(t);
        li.appendChild(el("span", null, ev.device + " · " + ev.kind));
        li.appendChild(el("span", "val", ev.value + " " + ev.unit));
        li.title = ev.id;
        list.appendChild(li);
      }
      card.appendChild(list);
      drawStream(card, site.site);
      frag.appendChild(card);
    }
    sitesEl.replaceChildren(frag);
    if (firstSeen.size > 5000) firstSeen.clear();
    emptyEl.hidden = count > 0;
    first = false;
  }

  const svg = window.sluiceSVG;

  // drawStream adds the site's last hour (bars of events per minute) and
  // its silent devices to its card, from what fetchStream last read.
  function drawStream(card, site) {
    const st = stream.get(site);
    if (!st || !st.minutes) return;
    const perMinute = new Map();
    for (const k of st.minutes.kinds) {
      for (const m of k.minutes) perMinute.set(m.minute, (perMinute.get(m.minute) || 0) + m.events);
    }
    const from = Date.parse(st.minutes.from), to = Date.parse(st.minutes.to);
    const n = Math.max(1, Math.round((to - from) / 60000));
    const w = 300, h = 48, step = w / n;
    const hi = Math.max(1, ...perMinute.values());
    const chart = svg("svg", { class: "minutes", viewBox: "0 0 " + w + " " + (h + 12), role: "img", "data-site": site });
    for (const [minute, events] of perMinute) {
      const i = Math.floor((Date.parse(minute) - from) / 60000);
      if (i < 0 || i >= n) continue;
      const bh = Math.max(1, h * events / hi);
      chart.appendChild(svg("rect", { x: i * step, y: h - bh, width: Math.max(1, step - 0.5), height: bh,
        "data-minute": minute, "data-value": events }, fmtTime(minute) + ": " + events + " events"));
    }
    const label = svg("text", { x: 0, y: h + 11 });
    label.textContent = "events per minute, last hour (max " + hi + ")";
    chart.appendChild(label);
    card.appendChild(chart);
    if (st.silent && st.silent.devices.length) {
      const p = el("p", "silent");
      p.dataset.silent = st.silent.devices.map((d) => d.device).join(",");
      p.textContent = "silent: " + st.silent.devices.map((d) => d.device + " since " + fmtTime(d.silent_since)).join(", ");
      card.appendChild(p);
    }
  }

  async function fetchStream(site) {
    const st = stream.get(site) || {};
    if (st.at && Date.now() - st.at < STREAM_MS) return;
    st.at = Date.now();
    stream.set(site, st);
    try {
      const [m, s] = await Promise.all([
        fetch("/v1/sites/" + encodeURIComponent(site) + "/minutes", { headers: window.sluiceKey.headers(), cache: "no-store" }),
        fetch("/v1/sites/" + encodeURIComponent(site) + "/silent", { headers: window.sluiceKey.headers(), cache: "no-store" }),
      ]);
      if (m.ok) st.minutes = await m.json();
      if (s.ok) st.silent = await s.json();
    } catch (err) {
      // The chart is an extra: the page goes on without it.
    }
  }

  async function poll() {
    try {
      const resp = await fetch("/v1/live?per_site=5", { headers: window.sluiceKey.headers(), cache: "no-store" });
      if (resp.status === 401) {
        window.sluiceKey.ask(form, keyInput, function () { clearTimeout(timer); poll(); });
        statusEl.textContent = "an API key is needed";
        statusEl.className = "error";
        return;
      }
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const data = await resp.json();
      // Drawn from the next poll on; the events do not wait for the chart.
      data.sites.forEach((site) => fetchStream(site.site));
      render(data);
      statusEl.textContent = "updated " + new Date().toLocaleTimeString([], { hour12: false }) + " · cache " + data.cache;
      statusEl.className = "";
    } catch (err) {
      statusEl.textContent = "update failed (" + err.message + "), retrying";
      statusEl.className = "error";
    }
    timer = setTimeout(poll, pollMs);
  }

  poll();
})();
