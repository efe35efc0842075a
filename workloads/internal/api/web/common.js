// What the pages share: the API key, kept in the tab's sessionStorage,
// sent as X-API-Key and asked for with the page's key form when the API
// answers 401; and an SVG element maker for their charts.
(function () {
  "use strict";
  const STORE = "sluice-api-key";
  const SVG = "http://www.w3.org/2000/svg";
  // sluiceSVG makes an SVG element with attributes and, when title is
  // given, a tooltip.
  window.sluiceSVG = function (tag, attrs, title) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (title) {
      const t = document.createElementNS(SVG, "title");
      t.textContent = title;
      e.appendChild(t);
    }
    return e;
  };
  window.sluiceKey = {
    headers() {
      const key = sessionStorage.getItem(STORE);
      return key ? { "X-API-Key": key } : {};
    },
    // ask shows form and calls then() once a key was entered.
    ask(form, input, then) {
      form.hidden = false;
      form.onsubmit = function (e) {
        e.preventDefault();
        sessionStorage.setItem(STORE, input.value);
        input.value = "";
        form.hidden = true;
        then();
      };
    },
  };
})();
