/* Stand-in for Meta's fbevents.js in browser tests: set `_fbp` (and `_fbc` after an ad click, `fbclid`) for the
   90 days Meta fixes (its pixel has no lifetime option), then load the pixel's configuration as Meta's does. */
(function () {
  var AGE = 90 * 86400, stamp = Date.now(), click = /[?&]fbclid=([^&]*)/.exec(location.search);
  var script = document.createElement('script');
  window.__stubs = (window.__stubs || 0) + 1;
  document.cookie = '_fbp=fb.1.' + stamp + '.1234567890; path=/; max-age=' + AGE;
  if (click) document.cookie = '_fbc=fb.1.' + stamp + '.' + click[1] + '; path=/; max-age=' + AGE;
  var init = [].filter.call(window.fbq.q || [], function (command) { return command[0] === 'init'; })[0];
  script.src = 'https://connect.facebook.net/signals/config/' + init[1];
  document.head.appendChild(script);
})();
