/* Stand-in for Google's gtag.js in browser tests: read the page's dataLayer as gtag.js does and, for each
   `config` whose storage is granted, set the first-party cookies Google documents with the lifetime the page
   configured (`cookie_expires`, in seconds), or Google's documented default of two years when it did not. */
(function () {
  var DEFAULT_EXPIRES = 63072000, consent = {};
  window.__stubs = (window.__stubs || 0) + 1;
  function set(name, value, seconds) {
    document.cookie = name + '=' + value + '; path=/' + (seconds ? '; max-age=' + seconds : '');
  }
  function config(id, params) {
    var seconds = params && 'cookie_expires' in params ? params.cookie_expires : DEFAULT_EXPIRES;
    var stamp = Math.floor(Date.now() / 1000), click = /[?&]gclid=([^&]*)/.exec(location.search);
    if (id.indexOf('G-') === 0 && consent.analytics_storage === 'granted') {
      set('_ga', 'GA1.1.' + stamp, seconds);
      set('_ga_' + id.slice(2), 'GS1.1.' + stamp, seconds);
    }
    if (id.indexOf('AW-') === 0 && consent.ad_storage === 'granted') {
      set('_gcl_au', '1.1.' + stamp, seconds);
      if (click) set('_gcl_aw', 'GCL.' + stamp + '.' + click[1], seconds);
    }
  }
  function run(command) {
    if (command[0] === 'consent') for (var key in command[2]) consent[key] = command[2][key];
    if (command[0] === 'config') config(command[1], command[2]);
  }
  var queue = window.dataLayer = window.dataLayer || [], push = queue.push;
  queue.forEach(run);
  queue.push = function (command) { run(command); return push.apply(queue, arguments); };
})();
