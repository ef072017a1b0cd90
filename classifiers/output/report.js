"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("report-data").textContent);
  const tip = document.getElementById("tooltip");
  const MAX_TIP = 8;  // classes listed in the tooltip, likeliest first
  document.querySelectorAll("img[data-frame]").forEach(function (img) {  // a frame shown again: its JPEG is once
    const first = document.getElementById(img.dataset.frame);
    if (first) img.src = first.getAttribute("src");
  });
  function clock(t) {
    const whole = Math.abs(t - Math.round(t)) < 1e-6, v = whole ? Math.round(t) : t;
    const h = Math.floor(v / 3600), m = Math.floor((v % 3600) / 60), s = v % 60;
    const ss = whole ? String(s).padStart(2, "0") : s.toFixed(1).padStart(4, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
  }
  function sampleAt(times, t) {
    let lo = 0, hi = times.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (times[mid] <= t) lo = mid; else hi = mid - 1; }
    return lo;
  }
  document.querySelectorAll("svg.timeline").forEach(function (svg) {
    const v = DATA.videos[Number(svg.dataset.video)];
    const cursor = svg.querySelector("line.cursor");
    svg.addEventListener("mousemove", function (e) {
      const pt = svg.createSVGPoint(); pt.x = e.clientX; pt.y = e.clientY;
      const p = pt.matrixTransform(svg.getScreenCTM().inverse());
      const t = (p.x - v.x0) / v.width * v.end_s;
      const i = sampleAt(v.times, t);
      if (t < 0 || t > v.end_s || i < 0) { tip.style.display = "none"; cursor.setAttribute("visibility", "hidden"); return; }
      // the likeliest few, one a line: a cast of 30 would not fit on one
      const ranked = v.classes.map(function (c, j) { return [v.proba_pct[j][i] / 100, c]; })
        .sort(function (a, b) { return b[0] - a[0]; });
      const lines = [clock(t) + " (" + t.toFixed(1) + " s): " + v.names[v.label_at[i]]];
      ranked.slice(0, MAX_TIP).forEach(function (r) { lines.push(r[1] + " " + r[0].toFixed(2)); });
      if (ranked.length > MAX_TIP) lines.push("… " + (ranked.length - MAX_TIP) + " more below " + ranked[MAX_TIP - 1][0].toFixed(2));
      tip.textContent = lines.join("\n");
      tip.style.display = "block";
      const right = window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 4;  // never off the page
      tip.style.left = Math.max(0, Math.min(e.pageX + 12, right)) + "px"; tip.style.top = (e.pageY + 12) + "px";
      cursor.setAttribute("x1", p.x); cursor.setAttribute("x2", p.x); cursor.setAttribute("visibility", "visible");
    });
    svg.addEventListener("mouseleave", function () { tip.style.display = "none"; cursor.setAttribute("visibility", "hidden"); });
  });
  function showFrames(vi, si) {
    const row = document.getElementById("seg-" + vi + "-" + si);
    const panel = document.getElementById("frames-" + vi);
    if (!row || !panel) return;
    document.querySelectorAll("#video-" + vi + " .segments tr.selected").forEach(function (r) { r.classList.remove("selected"); });
    row.classList.add("selected");
    panel.replaceChildren();
    const head = document.createElement("div");
    head.className = "frames-heading";
    const name = document.createElement("bdi");  // a right-to-left name keeps the times after it
    name.textContent = row.dataset.label;
    head.append(name, ", " + row.dataset.start + "–" + row.dataset.end);
    panel.appendChild(head);
    const figures = row.querySelectorAll("td.thumbs figure");
    if (!figures.length) {
      const none = document.createElement("span");
      none.className = "note";
      none.textContent = "no thumbnails for this segment";
      panel.appendChild(none);
    }
    figures.forEach(function (f) { panel.appendChild(f.cloneNode(true)); });
    row.scrollIntoView({block: "nearest"});
  }
  document.querySelectorAll("rect.seg, .segments tr[data-seg]").forEach(function (el) {
    el.addEventListener("click", function () { showFrames(el.dataset.video, el.dataset.seg); });
  });
})();
