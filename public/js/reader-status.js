/*
 * The reader status where JS runs: polls the agent's JSON status and writes it as text only. Whatever listens on the
 * agent's port is not trusted: nothing it sends becomes markup, and it gets no header of ours. ES5 for IE11.
 */
(function () {
  var INTERVAL_MS = 2000;
  var TIMEOUT_MS = 4000;
  var SELECTOR = '.reader-status-live[data-status-url]';

  function setText(node, text) {
    if ('textContent' in node) node.textContent = text;
    else node.innerText = text;
  }

  function line(el, key, cls) {
    var text = el.getAttribute('data-' + key);
    return text ? { text: text, cls: cls } : null;
  }

  // Only JSON of the agent's exact shape says anything; any other answer counts as no agent.
  function linesFor(el, body) {
    var status;
    try {
      status = JSON.parse(body);
    } catch (e) {
      return null;
    }
    if (!status || typeof status !== 'object' || typeof status.reader !== 'boolean' || typeof status.card !== 'boolean') return null;
    var lines = [line(el, 'connected', 'ok')];
    if (status.error === 'pcsc_service_missing') {
      lines.push(line(el, 'pcsc-missing', 'no'));
    } else {
      lines.push(line(el, status.reader ? 'reader-ok' : 'reader-none', status.reader ? 'ok' : 'no'));
      if (status.reader) lines.push(line(el, status.card ? 'card-ok' : 'card-none', status.card ? 'ok' : 'no'));
      if (status.error === 'terminal_not_enrolled') lines.push(line(el, 'not-enrolled', 'no'));
      else if (typeof status.error === 'string' && status.error) {
        // A code this page does not know (a newer agent): shown verbatim, as text.
        lines.push({ text: (el.getAttribute('data-error-other') || '') + status.error.slice(0, 100), cls: 'no' });
      }
    }
    if (status.mode === 'sim') lines.push(line(el, 'simulated', 'mode'));
    return lines;
  }

  function render(el, lines) {
    if (!lines) lines = [{ text: el.getAttribute('data-offline') || '', cls: 'reader-status-offline' }];
    var key = '';
    var i;
    for (i = 0; i < lines.length; i++) if (lines[i]) key += lines[i].cls + ':' + lines[i].text + '\n';
    // Unchanged status is not rewritten, so a screen reader does not hear it every poll.
    if (el.getAttribute('data-shown') === key) return;
    el.setAttribute('data-shown', key);
    while (el.firstChild) el.removeChild(el.firstChild);
    for (i = 0; i < lines.length; i++) {
      if (!lines[i]) continue;
      var p = document.createElement('p');
      p.className = 'reader-status-line ' + lines[i].cls;
      setText(p, lines[i].text);
      el.appendChild(p);
    }
  }

  function poll(el) {
    if (el.getAttribute('data-polling') === 'true') return;
    el.setAttribute('data-polling', 'true');
    var xhr = new XMLHttpRequest();
    var done = false;
    function finish(lines) {
      if (done) return;
      done = true;
      el.setAttribute('data-polling', 'false');
      render(el, lines);
    }
    try {
      xhr.open('GET', el.getAttribute('data-status-url'), true);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.timeout = TIMEOUT_MS;
      xhr.onreadystatechange = function () {
        if (xhr.readyState !== 4) return;
        finish(xhr.status === 200 ? linesFor(el, xhr.responseText) : null);
      };
      xhr.ontimeout = function () {
        finish(null);
      };
      xhr.send();
    } catch (e) {
      finish(null);
    }
  }

  // Every status element on the page, including one a card-panel swap has just put there.
  function pollAll() {
    var els = document.querySelectorAll(SELECTOR);
    for (var i = 0; i < els.length; i++) poll(els[i]);
  }

  function start() {
    pollAll();
    setInterval(pollAll, INTERVAL_MS);
    document.addEventListener('htmx:load', pollAll);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
