requestAnimationFrame(function () {
  setTimeout(function () {
    var s = document.createElement('script');
    s.src = document.getElementById('cc').getAttribute('data-js');
    document.body.appendChild(s);
  });
});
