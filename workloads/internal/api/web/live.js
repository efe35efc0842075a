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
      frag.appendChild(card);
    }
    sitesEl.replaceChildren(frag);
    if (firstSeen.size > 5000) firstSeen.clear();
    emptyEl.hidden = count > 0;
    first = false;
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
