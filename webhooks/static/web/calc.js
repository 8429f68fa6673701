/* Calculator form: show (and require) the fields that apply to the answers given so far.
   Without this script every field shows, and the server checks the same rules. */
(function () {
  'use strict';
  var form = document.getElementById('calc-form');
  if (!form) { return; }
  var blocks = form.querySelectorAll('[data-when]');
  function value(name) {
    var el = form.elements[name];
    return el ? String(el.value || '') : '';
  }
  function update() {
    for (var i = 0; i < blocks.length; i++) {
      var when = JSON.parse(blocks[i].getAttribute('data-when'));
      var show = Object.keys(when).every(function (k) { return value(k) === when[k]; });
      blocks[i].hidden = !show;
      var inputs = blocks[i].querySelectorAll('input, select');
      for (var j = 0; j < inputs.length; j++) {
        inputs[j].disabled = !show;
        inputs[j].required = show;
      }
    }
  }
  form.addEventListener('change', update);
  update();
  var result = document.getElementById('result') || document.getElementById('form-error');
  if (result) { result.focus({ preventScroll: true }); }
})();
