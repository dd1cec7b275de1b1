/* Error summary: a link to a field focuses the field and scrolls its label (or, for a choice, its group's legend)
   into view, as GOV.UK's summary does. Without this file the link still leads to the field. */
document.addEventListener('click', function (event) {
  var link = event.target.closest && event.target.closest('.error-summary a[href^="#"]');
  var field = link && document.getElementById(link.getAttribute('href').slice(1));
  if (!field) return;
  var group = /^(radio|checkbox)$/.test(field.type) && field.closest('fieldset');
  var caption = (group && group.querySelector('legend')) || document.querySelector('label[for="' + field.id + '"]');
  event.preventDefault();
  (caption || field).scrollIntoView();
  field.focus({preventScroll: true});
});
