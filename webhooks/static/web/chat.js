/* The chat page: bubbles, quick replies, office cards and links from the reply contract.
   Talks to POST /api/v1/ask; the conversation key is the jiuye_uid cookie the page set,
   and a short history stays in localStorage so a reload shows the same conversation. The
   history is kept under a tag of that cookie (data-conversation): when the cookie is lost or
   replaced, the server starts afresh and so does the page. It is dropped after
   data-history-hours without a message (shared township PCs), and 清除记录 drops it at once,
   with the conversation on the server.
   Each question carries a fresh message_id; a retry after a lost response sends the same id,
   so the server answers it once (a dialogue answer is never applied to the next question). */
(function () {
  'use strict';
  var KEY = 'jiuye_chat_v2', MAX = 40, TIMEOUT = 20000;
  var S = JSON.parse(document.getElementById('strings').textContent);
  var log = document.getElementById('log');
  var conv = log.getAttribute('data-conversation') || '';
  var hours = parseFloat(log.getAttribute('data-history-hours'));
  var KEEP = (isFinite(hours) ? hours : 12) * 3600 * 1000;
  var form = document.getElementById('ask');
  var input = document.getElementById('q');
  var busy = false;
  var history = load();
  var MONG = /[\u1800-\u18af]/;
  var speech = ('speechSynthesis' in window) && typeof window.SpeechSynthesisUtterance === 'function';

  function load() {
    try {
      var h = JSON.parse(localStorage.getItem(KEY) || 'null');
      var fresh = h && typeof h.saved === 'number' && Date.now() - h.saved < KEEP;
      if (!fresh) { localStorage.removeItem(KEY); return []; }
      return (h.conv === conv && Array.isArray(h.items)) ? h.items : [];
    } catch (e) { return []; }
  }
  function save() {
    history = history.slice(-MAX);
    try {
      localStorage.setItem(KEY, JSON.stringify({ conv: conv, saved: Date.now(), items: history }));
    } catch (e) { /* full or private mode */ }
  }
  // A fresh id per question: 24 hex digits from the browser's random source.
  function newId() {
    var a = new Uint8Array(12), s = 'm', i;
    if (window.crypto && window.crypto.getRandomValues) { window.crypto.getRandomValues(a); }
    else { for (i = 0; i < a.length; i++) { a[i] = Math.floor(Math.random() * 256); } }
    for (i = 0; i < a.length; i++) { s += ('0' + a[i].toString(16)).slice(-2); }
    return s;
  }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    return n;
  }
  // Text in Mongolian script is written vertically (site.css .mong); Chinese stays horizontal.
  function mong(n, text) {
    if (MONG.test(String(text || ''))) { n.classList.add('mong'); n.setAttribute('lang', 'mn-Mong'); }
    return n;
  }
  // The conversation chose a language ("蒙文", a message in Mongolian script): the page follows it,
  // as the switch would (same cookie), and is drawn again from the saved history in that language.
  function follow(locale) {
    if ((locale !== 'zh' && locale !== 'mn') || locale === log.getAttribute('data-locale')) { return; }
    log.setAttribute('data-locale', locale);
    document.cookie = 'jiuye_lang=' + locale + '; path=/; max-age=31536000; samesite=lax';
    window.location.reload();
  }
  // 🔊 read an answer aloud with the browser's own voice (zh-CN); Mongolian letters are skipped,
  // a zh-CN voice cannot read them. No button where the browser cannot speak.
  function speakButton(text) {
    var said = String(text || '').replace(/[\u1800-\u18af\u202f]+/g, ' ').trim();
    if (!speech || (said.match(/[\u4e00-\u9fff]/g) || []).length < 6) { return null; }  // little Chinese: nothing to read
    var btn = el('button', 'speak', '🔊 ' + S.read_aloud);
    btn.type = 'button';
    btn.setAttribute('aria-label', S.read_aloud_label);
    btn.setAttribute('aria-pressed', 'false');
    btn.addEventListener('click', function () {
      window.speechSynthesis.cancel();
      var u = new window.SpeechSynthesisUtterance(said);
      u.lang = 'zh-CN';
      u.onend = function () { btn.setAttribute('aria-pressed', 'false'); };
      btn.setAttribute('aria-pressed', 'true');
      window.speechSynthesis.speak(u);
    });
    return btn;
  }
  function safeUrl(u) {
    u = String(u || '');
    return (/^\/(?!\/)/.test(u) || /^https?:\/\//i.test(u)) ? u : null;
  }
  function tel(n) { return 'tel:' + String(n).replace(/[^0-9+\-]/g, ''); }
  function telLink(n) { var a = el('a', null, n); a.href = tel(n); return a; }
  function money(n) {
    if (n === null || n === undefined) { return ''; }
    if (n >= 10000 && n % 10000 === 0) { return (n / 10000) + '万元'; }
    return n + '元';
  }
  function row(parent, label, value) {
    var dt = el('dt', null, label), dd = el('dd');
    if (value && value.nodeType) { dd.appendChild(value); } else { dd.textContent = value || S.not_published; }
    parent.appendChild(dt); parent.appendChild(dd);
  }

  function msgBox(who) {
    var m = el('div', 'msg ' + who);
    if (who === 'bot') { var av = el('div', 'avatar', S.avatar); av.setAttribute('aria-hidden', 'true'); m.appendChild(av); }
    var b = el('div', 'bubble');
    m.appendChild(b);
    log.appendChild(m);
    return { m: m, b: b };
  }

  // An office: its number, or "待公布" with the hotline to call meanwhile; address and hours when known.
  function contactCard(c) {
    var card = el('div', 'ccard');
    card.appendChild(el('p', 'ccard-name', c.office));
    var dl = el('dl', 'kv'), phone;
    if (c.phone) { phone = telLink(c.phone); } else {
      phone = el('span', null, S.hotline_hint + ' ');
      phone.appendChild(telLink(c.hotline || '12333'));
    }
    row(dl, S.phone, phone);
    if (c.address) { row(dl, S.address, c.address); }
    if (c.hours) { row(dl, S.hours, c.hours); }
    card.appendChild(dl);
    return card;
  }

  function list(parent, items, cls) {
    if (!items || !items.length) { return; }
    var ul = el('ul', cls);
    items.forEach(function (t) { ul.appendChild(el('li', null, t)); });
    parent.appendChild(ul);
  }

  function resultCard(r) {
    var card = el('div', 'result ' + (r.eligible === true ? 'yes' : r.eligible === false ? 'no' : 'maybe'));
    var verdict = r.eligible === true ? S.eligible : r.eligible === false ? S.not_eligible : S.office_decides;
    card.appendChild(mong(el('p', 'result-head', verdict), verdict));
    var amount = '';
    if (r.amount_range) { amount = money(r.amount_range[0]) + ' – ' + money(r.amount_range[1]); }
    else if (r.amount !== null && r.amount !== undefined) {
      amount = (r.amount_kind === 'max' ? S.at_most + ' ' : '') + money(r.amount) + (r.amount_kind === 'monthly' ? S.per_month : '');
    }
    // When the office decides, the plan's figure is a standard, not a promise: small, and said so.
    if (amount && r.eligible === true) { card.appendChild(el('p', 'result-amount', amount)); }
    else if (amount && r.eligible === null) { card.appendChild(el('p', 'result-standard', S.plan_standard + amount)); }
    (r.expired_notes && r.expired_notes.length ? r.expired_notes : (r.expired ? [S.expired] : [])).forEach(function (t) {
      card.appendChild(el('p', 'warn', t));
    });
    list(card, r.reasons, 'reasons');
    list(card, r.would_change, 'reasons');
    list(card, r.notes, 'reasons');
    return card;
  }

  function disableOld() {
    var olds = log.querySelectorAll('.opts button');
    for (var i = 0; i < olds.length; i++) { olds[i].disabled = true; }
  }

  function renderBot(d, live) {
    disableOld();
    var x = msgBox('bot'), b = x.b;
    if (d.result) {
      var head = S.result_title.replace('{title}', d.result.title || '');
      b.appendChild(mong(el('p', 'text', head), head));
      b.appendChild(resultCard(d.result));
    } else {
      b.appendChild(mong(el('p', 'text', d.reply), d.reply));
    }
    var say = speakButton(d.reply);
    if (say) { b.appendChild(say); }
    var contacts = (d.contacts && d.contacts.length) ? d.contacts : ((d.result && d.result.contacts) || []);
    contacts.slice(0, 4).forEach(function (c) { b.appendChild(contactCard(c)); });
    if (d.links && d.links.length) {
      var links = el('p', 'links');
      d.links.forEach(function (l) {
        var u = safeUrl(l.url);
        if (!u) { return; }
        var a = el('a', 'chip', l.title); a.href = u; links.appendChild(a);
      });
      b.appendChild(links);
    }
    if (d.options && d.options.length) {
      var opts = el('div', 'opts');
      opts.setAttribute('role', 'group');
      opts.setAttribute('aria-label', S.choose);
      if (d.options.some(function (o) { return MONG.test(o.label); })) { opts.classList.add('mong-opts'); }
      d.options.forEach(function (o) {
        var btn = el('button', 'opt');
        btn.type = 'button';
        btn.setAttribute('data-key', o.key);
        btn.appendChild(el('span', 'opt-key', o.key));
        btn.appendChild(mong(el('span', 'opt-label', o.label), o.label));
        btn.disabled = !live;
        btn.addEventListener('click', function () { send(o.key, o.label); });
        opts.appendChild(btn);
      });
      b.appendChild(opts);
    }
    return x.m;
  }

  function renderMe(text) {
    var x = msgBox('me');
    x.b.appendChild(el('p', 'text', text));
    return x.m;
  }

  function typing() {
    var x = msgBox('bot');
    x.m.classList.add('typing');
    x.b.appendChild(el('span', 'sr', S.typing));
    for (var i = 0; i < 3; i++) { x.b.appendChild(el('span', 'dot')).setAttribute('aria-hidden', 'true'); }
    return x.m;
  }

  function toBottom() { window.scrollTo(0, document.body.scrollHeight); }
  function toTop(m) {
    if (m.offsetHeight > window.innerHeight * 0.6) { m.scrollIntoView({ block: 'start' }); } else { toBottom(); }
  }

  function setBusy(on) {
    busy = on;
    form.classList.toggle('busy', on);
    var bs = document.querySelectorAll('.inputbar button');
    for (var i = 0; i < bs.length; i++) { bs[i].disabled = on; }
  }

  function failed(text, label, silent, why, id) {
    var x = msgBox('bot');
    x.m.classList.add('error');
    x.b.appendChild(el('p', 'text', why));
    var btn = el('button', 'btn retry', S.retry);
    btn.type = 'button';
    // the same message_id: if the server did answer and only the response was lost, it answers
    // again from storage instead of applying the message twice
    btn.addEventListener('click', function () { x.m.remove(); send(text, label, silent, true, id); });
    x.b.appendChild(btn);
    toBottom();
  }

  function send(text, label, silent, retry, id) {
    text = String(text || '').trim();
    if (!text || busy) { return; }
    id = id || newId();
    if (!silent && !retry) {
      renderMe(label || text);
      history.push({ me: label || text });
      save();
    }
    var wait = typing();
    toBottom();
    setBusy(true);
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) { ctl.abort(); } }, TIMEOUT);
    fetch('/api/v1/ask', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ text: text, message_id: id }),
      signal: ctl ? ctl.signal : undefined
    }).then(function (r) {
      // a proxy's or server's error page is not JSON: say "try later", not "no network"
      return r.json().then(function (d) { return { ok: r.ok, d: d }; }, function () { return { ok: false, d: null }; });
    }).then(function (res) {
      clearTimeout(timer); wait.remove(); setBusy(false);
      if (!res.ok) { failed(text, label, silent, (res.d && res.d.error) || S.error, id); return; }
      var m = renderBot(res.d, true);
      history.push({ bot: res.d });
      save();
      follow(res.d.locale);
      toTop(m);
    }).catch(function () {
      clearTimeout(timer); wait.remove(); setBusy(false);
      failed(text, label, silent, S.offline, id);
    });
  }

  // 清除记录: forget this browser's conversation here and on the server, then start afresh.
  function clearHistory() {
    if (busy || !window.confirm(S.clear_confirm)) { return; }
    try { localStorage.removeItem(KEY); } catch (e) { /* private mode */ }
    history = [];
    while (log.firstChild) { log.removeChild(log.firstChild); }
    setBusy(true);
    fetch('/chat/forget', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' }, body: '{}'
    }).then(function (r) { return r.ok ? r.json() : null; }, function () { return null; }).then(function (d) {
      if (d && d.conversation) { conv = d.conversation; log.setAttribute('data-conversation', conv); }
      setBusy(false);
      send('菜单', null, true);
    });
  }
  var clearBtn = document.getElementById('clear-btn');
  if (clearBtn) { clearBtn.hidden = false; clearBtn.addEventListener('click', clearHistory); }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim() || busy) { return; }
    input.value = '';
    send(text);
  });
  document.getElementById('menu-btn').addEventListener('click', function () { send('菜单'); });

  // Restore the conversation; a first visit opens with the menu (nothing is re-asked on reload).
  var intro = document.getElementById('intro');
  var lastBot = -1;
  history.forEach(function (h, i) { if (h && h.bot) { lastBot = i; } });
  if (history.length) {
    intro.remove();
    history.forEach(function (h, i) {
      // one damaged entry (an old format, a hand-edited store) is skipped, not the rest
      var shown = log.children.length;
      try {
        if (h && h.bot) { renderBot(h.bot, i === lastBot); } else if (h && h.me) { renderMe(h.me); }
      } catch (e) {
        while (log.children.length > shown) { log.removeChild(log.lastElementChild); }
      }
    });
    toBottom();
  } else {
    intro.remove();
    send('菜单', null, true);
  }
})();
