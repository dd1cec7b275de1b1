/* K-Inventory: read the visitor's cookie choice made on any of the company's sites (docs/product.md).
   <script src="https://www.k-inventory.com/static/consent/shared-state.js" data-state-url="https://www.k-inventory.com/cookies/etat.json"></script>
   then: kinvConsent.ready.then(function (state) { if (state.decided && state.categories.analytics) { ... } });
   Until the visitor has chosen (or when the site cannot be reached), every category counts as refused. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = (script && script.getAttribute("data-state-url")) || "/cookies/etat.json";
  var refused = { decided: false, categories: {} };
  var ready = fetch(url, { credentials: "include", cache: "no-store" })
    .then(function (response) { return response.ok ? response.json() : refused; })
    .catch(function () { return refused; })
    .then(function (state) {
      state.categories = state.categories || {};
      document.dispatchEvent(new CustomEvent("kinv:consent", { detail: state }));
      return state;
    });
  window.kinvConsent = {
    ready: ready,
    allows: function (category) {
      return ready.then(function (state) { return Boolean(state.decided && state.categories[category]); });
    }
  };
})();
