// The API key of the pages: kept in the tab's sessionStorage, sent as
// X-API-Key, asked for with the page's key form when the API answers 401.
(function () {
  "use strict";
  const STORE = "sluice-api-key";
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
