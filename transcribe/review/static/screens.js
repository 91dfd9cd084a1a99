// Small behaviours of the other screens: a choice in a filter form applies at once.
"use strict";
(function () {
  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("change", function () { form.submit(); });
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.hidden = true; });
  });
})();
