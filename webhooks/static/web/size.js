/* Large-text switch for older readers, remembered per browser and applied before the page
   paints; and print buttons (the poster). No inline handlers: the CSP allows only this file. */
(function () {
  'use strict';
  var KEY = 'jiuye_big', root = document.documentElement;
  function stored() { try { return localStorage.getItem(KEY) === '1'; } catch (e) { return false; } }
  function apply(on) { root.classList.toggle('big', on); }
  apply(stored());
  document.addEventListener('DOMContentLoaded', function () {
    var prints = document.querySelectorAll('[data-print]');
    for (var i = 0; i < prints.length; i++) {
      prints[i].hidden = false;
      prints[i].addEventListener('click', function () { window.print(); });
    }
    var btn = document.getElementById('size-toggle');
    if (!btn) { return; }
    function show() {
      var on = root.classList.contains('big');
      btn.setAttribute('aria-pressed', on ? 'true' : 'false');
      btn.textContent = on ? '标准字' : '大字';
    }
    btn.hidden = false;
    show();
    btn.addEventListener('click', function () {
      var on = !root.classList.contains('big');
      apply(on);
      try { localStorage.setItem(KEY, on ? '1' : '0'); } catch (e) { /* private mode: this page only */ }
      show();
    });
  });
})();
