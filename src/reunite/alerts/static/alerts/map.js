/* Choose the place of a sighting by clicking the alert map (an enhancement: typing an address or
   coordinates works without it).  The projection is the one the server drew the map with:
   a local equirectangular projection around the last-seen point (see reunite/alerts/geo.py). */
(function () {
  "use strict";
  var KM_PER_DEGREE_LAT = 110.574;
  var svg = document.querySelector("svg[data-pick]");
  if (!svg) { return; }
  var lat0 = parseFloat(svg.dataset.lat);
  var lon0 = parseFloat(svg.dataset.lon);
  var kmPerPx = parseFloat(svg.dataset.kmPerPx);
  var kmPerDegLon = parseFloat(svg.dataset.kmPerDegLon);
  var half = parseFloat(svg.dataset.size) / 2;
  var marker = document.getElementById("alert-map-pick");
  var latInput = document.getElementById("id_latitude");
  var lonInput = document.getElementById("id_longitude");
  var shown = document.getElementById("alert-map-chosen");
  svg.addEventListener("click", function (event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var p = point.matrixTransform(svg.getScreenCTM().inverse());
    var lat = lat0 + (half - p.y) * kmPerPx / KM_PER_DEGREE_LAT;
    var lon = lon0 + (p.x - half) * kmPerPx / kmPerDegLon;
    latInput.value = lat.toFixed(5);
    lonInput.value = lon.toFixed(5);
    marker.setAttribute("cx", p.x.toFixed(1));
    marker.setAttribute("cy", p.y.toFixed(1));
    marker.setAttribute("visibility", "visible");
    if (shown) { shown.textContent = lat.toFixed(5) + ", " + lon.toFixed(5); }
  });
})();
