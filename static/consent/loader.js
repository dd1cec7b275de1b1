addEventListener('load', function () {
  var P = window.PerformanceObserver;
  function go() {
    setTimeout(function () {
      var s = document.createElement('script');
      s.src = document.getElementById('cc').getAttribute('data-js');
      document.body.appendChild(s);
    });
  }
  if (P && (P.supportedEntryTypes || []).indexOf('paint') > -1) {
    new P(function (list, observer) {
      if (list.getEntriesByName('first-contentful-paint').length) {
        observer.disconnect();
        go();
      }
    }).observe({type: 'paint', buffered: true});
  } else {
    requestAnimationFrame(function () { requestAnimationFrame(go); });
  }
});
