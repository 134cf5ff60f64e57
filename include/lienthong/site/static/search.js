// Offline search over the site's index (search-index.js): a commune by its new or old name, with
// or without diacritics. No network, no framework: works opened from disk.
(function () {
  "use strict";
  function key(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase().replace(/\s+/g, " ").trim();
  }
  var entries = (window.LIENTHONG_SEARCH || []).map(function (e) {
    return { e: e, name: key(e.n), old: key(e.o) };
  });
  var root = document.querySelector('link[rel="stylesheet"]').getAttribute("href").replace(/site\.css$/, "");
  var list = document.getElementById("ket-qua");
  var status = document.getElementById("ket-qua-trang-thai");
  var input = document.getElementById("tim");

  function show(query) {
    var q = key(query);
    list.textContent = "";
    if (!q) { status.textContent = "Gõ tên vào ô tìm kiếm ở đầu trang."; return; }
    var words = q.split(" ");
    var found = entries.filter(function (x) {
      return words.every(function (w) { return x.name.indexOf(w) >= 0 || x.old.indexOf(w) >= 0; });
    }).sort(function (a, b) { return (b.name.indexOf(q) >= 0) - (a.name.indexOf(q) >= 0); });
    status.textContent = found.length ? "Tìm thấy " + found.length + " kết quả cho “" + query + "”."
                                      : "Không tìm thấy “" + query + "”.";
    found.slice(0, 50).forEach(function (x) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = root + x.e.u;
      link.textContent = x.e.n;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" (" + x.e.k + ")"));
      if (x.e.o) {
        var old = document.createElement("span");
        old.className = "cu";
        old.textContent = (x.e.k === "Xã/Phường" ? "Tên cũ: " : "") + x.e.o;
        item.appendChild(old);
      }
      list.appendChild(item);
    });
  }
  var query = new URLSearchParams(window.location.search).get("q") || "";
  input.value = query;
  input.addEventListener("input", function () { show(input.value); });
  show(query);
})();
