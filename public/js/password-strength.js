/*
 * Password strength, the one rule the browser's live indicator and the server share (ES5 for IE11).
 * Character classes: lower a-z, upper A-Z, digit 0-9, symbol ~!@#$%^&*.
 *   strong        = all 4 classes and 8+ characters (the seed's 強式密碼)
 *   medium-strong = 3+ classes and 8+ characters, or all 4 classes under 8 characters
 *   medium        = 2+ classes
 *   weak          = anything else
 * In the browser: every input[data-strength-output] writes the label of its level (the output element's
 * data-label-weak / -medium / -medium-strong / -strong) as text into the element with that id, and the level
 * into its data-strength attribute; an empty password shows nothing.
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module && module.exports) {
    module.exports = api;
    return;
  }
  root.nhiPasswordStrength = api;
  var doc = root.document;
  if (!doc) return;

  function setText(node, text) {
    if ('textContent' in node) node.textContent = text;
    else node.innerText = text;
  }

  function bind(input) {
    // An input can be reached twice (page load, then an HTMX swap that contains it): listen once.
    if (input.getAttribute('data-strength-bound') === '1') return;
    input.setAttribute('data-strength-bound', '1');
    function update() {
      var out = doc.getElementById(input.getAttribute('data-strength-output'));
      if (!out) return;
      var value = input.value || '';
      if (!value) {
        setText(out, '');
        out.removeAttribute('data-strength');
        return;
      }
      var level = api.strength(value);
      setText(out, out.getAttribute('data-label-' + level) || level);
      out.setAttribute('data-strength', level);
    }
    input.addEventListener('input', update);
    input.addEventListener('keyup', update);
  }

  function wire(scope) {
    if (!scope || !scope.querySelectorAll) return;
    var inputs = scope.querySelectorAll('input[data-strength-output]');
    for (var i = 0; i < inputs.length; i++) bind(inputs[i]);
  }

  if (doc.readyState === 'loading') {
    doc.addEventListener('DOMContentLoaded', function () {
      wire(doc);
    });
  } else {
    wire(doc);
  }
  // Forms that HTMX swaps in after the page loaded get their indicator too.
  doc.addEventListener('htmx:load', function (event) {
    wire(event && event.target);
  });
})(typeof window !== 'undefined' ? window : this, function () {
  var SYMBOL = /[~!@#$%^&*]/;

  function strength(password) {
    var text = String(password == null ? '' : password);
    var classes = 0;
    if (/[a-z]/.test(text)) classes++;
    if (/[A-Z]/.test(text)) classes++;
    if (/[0-9]/.test(text)) classes++;
    if (SYMBOL.test(text)) classes++;
    var longEnough = text.length >= 8;
    if (classes === 4 && longEnough) return 'strong';
    if ((classes >= 3 && longEnough) || classes === 4) return 'medium-strong';
    if (classes >= 2) return 'medium';
    return 'weak';
  }

  return { strength: strength };
});
