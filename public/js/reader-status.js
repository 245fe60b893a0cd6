/* Where the reader agent cannot be reached, the polled status area says so instead of staying empty. ES5. */
(function () {
  document.addEventListener('htmx:sendError', function (event) {
    var el = event.target;
    var text = el && el.getAttribute && el.getAttribute('data-offline');
    if (!text) return;
    var p = document.createElement('p');
    p.className = 'reader-status-offline';
    p.appendChild(document.createTextNode(text));
    el.innerHTML = '';
    el.appendChild(p);
  });
})();
