/* Cookie banner enhancement: send the choice with fetch, close without a reload, start the accepted tags.
   Without this file every button is a plain form that works the same way. */
(function () {
  var banner = document.getElementById('cc'), css = document.createElement('link');
  if (!banner) return;
  css.rel = 'stylesheet';
  css.href = banner.getAttribute('data-css');
  document.head.appendChild(css);
  if (!window.fetch) return;

  function post(url, data) {
    return fetch(url, {
      method: 'POST', body: data, credentials: 'same-origin',
      headers: {Accept: 'application/json'}
    }).then(function (r) {
      if (!r.ok) throw r.status;
      return r.json();
    });
  }

  function script(attr, value) {
    var s = document.createElement('script');
    s[attr] = value;
    if (attr == 'src') s.async = true;
    document.body.appendChild(s);
  }

  function close(message) {
    var main = document.getElementById('contenu') || document.body, status = document.createElement('p');
    status.className = 'visually-hidden';
    status.setAttribute('role', 'status');
    main.prepend(status);
    banner.remove();
    main.focus({preventScroll: true});
    setTimeout(function () { status.textContent = message; }, 99);
  }

  banner.addEventListener('submit', function (event) {
    var form = event.target, button = event.submitter, data = new FormData(form);
    if (!form.hasAttribute('data-cc')) return;
    event.preventDefault();
    if (button) data.append(button.name, button.value);
    post(form.action, data).then(function (answer) {
      if (answer.consent_mode && window.gtag) gtag('consent', 'update', answer.consent_mode);
      if (banner.getAttribute('data-tags') == '1') answer.tags.forEach(function (tag) {
        if (tag.code) script('text', tag.code);
        if (tag.src) script('src', tag.src);
      });
      close(answer.message);
    }).catch(function () {
      if (button) form.insertAdjacentHTML('beforeend', '<input type="hidden" name="choice" value="' + button.value + '">');
      form.submit();
    });
  });

  if (navigator.globalPrivacyControl && banner.getAttribute('data-gpc') == '0') {
    post(banner.getAttribute('data-gpc-url'), new FormData(banner.querySelector('form'))).catch(function () {});
  }
})();
