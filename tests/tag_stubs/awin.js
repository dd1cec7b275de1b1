/* Stand-in for Awin's MasterTag (www.dwin1.com/<advertiser>.js) in browser tests: set the first-party cookies
   Awin's cookie list documents, `_aw_j_<advertiser>` (3 months) and, after an affiliate click (`awc`),
   `_aw_m_<advertiser>` (1 year). Awin fixes these lifetimes: its tag has no option for them. */
(function () {
  var id = /(\d+)\.js/.exec(document.currentScript.src)[1], click = /[?&]awc=([^&]*)/.exec(location.search);
  function set(name, value, months) {
    var until = new Date();
    until.setMonth(until.getMonth() + months);
    document.cookie = name + '=' + value + '; path=/; expires=' + until.toUTCString();
  }
  window.__stubs = (window.__stubs || 0) + 1;
  set('_aw_j_' + id, 'journey', 3);
  if (click) set('_aw_m_' + id, click[1], 12);
})();
