// Filters and sorting for the cards. The state lives in the URL hash
// (#task=continuation&sampler=t1.0&sort=h4&dir=desc): the select boxes only write the hash,
// and every change (a select, a link, a reload) goes through applyHash, so a shared link shows
// the same selection.
(function () {
  "use strict";
  var box = document.getElementById("cards");
  if (!box) { return; }
  var cards = Array.prototype.slice.call(box.querySelectorAll(".card"));
  var selects = Array.prototype.slice.call(document.querySelectorAll("#controls select"));
  var shown = document.getElementById("shown");

  function readHash() {
    var state = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      if (!kv) { return; }
      var i = kv.indexOf("=");
      var k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
      state[k] = i < 0 ? "" : decodeURIComponent(kv.slice(i + 1));
    });
    return state;
  }

  function hasOption(sel, value) {
    return Array.prototype.some.call(sel.options, function (o) { return o.value === value; });
  }

  function metric(card, key) {
    var v = parseFloat(card.getAttribute("data-" + key));
    return isNaN(v) ? null : v;
  }

  function apply(state) {
    var task = state.task || "", sampler = state.sampler || "";
    var key = state.sort || "", desc = state.dir === "desc";
    var n = 0;
    cards.forEach(function (c) {
      var ok = (!task || c.getAttribute("data-task") === task) &&
               (!sampler || c.getAttribute("data-sampler") === sampler);
      c.hidden = !ok;
      if (ok) { n += 1; }
    });
    var order = function (c) { return parseInt(c.getAttribute("data-order"), 10); };
    cards.slice().sort(function (a, b) {
      if (key) {
        var x = metric(a, key), y = metric(b, key);
        if (x === null || y === null) {
          if (x !== y) { return x === null ? 1 : -1; } // unscored pieces last
        } else if (x !== y) {
          return desc ? y - x : x - y;
        }
      }
      return order(a) - order(b);
    }).forEach(function (c) { box.appendChild(c); });
    shown.textContent = n + " of " + cards.length + " pieces shown";
    document.body.setAttribute("data-shown", String(n));
  }

  function applyHash() {
    var state = readHash();
    selects.forEach(function (sel) {
      var k = sel.getAttribute("data-key");
      var v = state[k] || "";
      if (!hasOption(sel, v)) { v = ""; state[k] = ""; }
      sel.value = v;
    });
    apply(state);
  }

  selects.forEach(function (sel) {
    sel.addEventListener("change", function () {
      var parts = [];
      selects.forEach(function (s) {
        if (s.value) { parts.push(s.getAttribute("data-key") + "=" + encodeURIComponent(s.value)); }
      });
      location.hash = parts.join("&"); // fires hashchange -> applyHash
      if (!parts.length) { applyHash(); }
    });
  });
  window.addEventListener("hashchange", applyHash);
  applyHash();
}());
