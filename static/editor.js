// Board editor: the preview beside the form follows every change, shortly
// after typing stops, rendered by the server from the form's values.
(function () {
  'use strict';
  var form = document.getElementById('board-form');
  var frame = document.getElementById('preview');
  if (!form || !frame) return;
  var base = form.getAttribute('data-preview').split('?')[0];
  var timer = null;
  function refresh() {
    timer = null;
    var data = new FormData(form);
    data.delete('csrf_token');
    // A disabled fieldset (a board of the file) leaves its fields out.
    var src = base + '?' + new URLSearchParams(data).toString();
    if (frame.getAttribute('src') !== src) frame.setAttribute('src', src);
  }
  function later() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }
  form.addEventListener('input', later);
  form.addEventListener('change', later);
})();
