/* Back-office behaviour that used to be inline (the Content-Security-Policy allows scripts from files only):
   - a list's filter box starts open on wide screens or when the list is filtered;
   - a checkbox with data-select-all="name" ticks every checkbox of that name;
   - a form with data-confirm="question" asks before it submits. */
(function () {
  function openFilters() {
    var box = document.getElementById("filterbox");
    if (box && (window.innerWidth > 900 || location.search.length > 1)) { box.open = true; }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", openFilters);
  } else {
    openFilters();
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("input[data-select-all]")) {
      document.querySelectorAll('input[name="' + e.target.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = e.target.checked;
      });
    }
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) { e.preventDefault(); }
  }, true);
})();
