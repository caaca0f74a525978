/* Pack station: keep the scan field focused, beep loudly on a wrong or surplus item (WebAudio, no files),
   and open the label once it exists. No network, no CDN. */
(function () {
  var ctx = null;
  function beep(times) {
    try {
      ctx = ctx || new (window.AudioContext || window.webkitAudioContext)();
      for (var i = 0; i < times; i++) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.type = "square";
        osc.frequency.value = 880;
        gain.gain.value = 0.25;
        osc.connect(gain); gain.connect(ctx.destination);
        var start = ctx.currentTime + i * 0.28;
        osc.start(start); osc.stop(start + 0.18);
      }
    } catch (e) { /* no audio: the red banner still shows */ }
  }
  function focusScan() {
    var field = document.getElementById("scan-code");
    if (field) { field.value = ""; field.focus(); }
  }
  function react(root) {
    var banner = (root || document).querySelector("[data-scan='error']");
    if (banner) { beep(3); }
    focusScan();
  }
  document.addEventListener("DOMContentLoaded", function () { react(document); });
  document.addEventListener("htmx:afterSwap", function (ev) { react(ev.target); });
  document.addEventListener("click", function (ev) {
    if (!ev.target.closest("input, select, button, a, textarea")) { focusScan(); }
  });
})();
