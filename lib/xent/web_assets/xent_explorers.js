/*
 * xent_explorers.js: the book's kernel-free explorers (sliders, bars, heatmap), vanilla JS.
 *
 * Needs xent_math.js (window.xentMath) loaded first. `xent.web` inlines both files into each
 * explorer's HTML output, ending with xentWeb.mountFrom(document.currentScript), which builds
 * the explorer in the <div class="xent-explorer" data-explorer="KIND" data-config="{...}"
 * id="ROOT"> just before the script (and any other one not yet mounted).
 * Element ids derive from the root id, so the same explorer renders the same HTML every time.
 * Every displayed number carries data-name and data-value (full precision) for the tests.
 */
(function (root) {
  "use strict";
  var M = root.xentMath;

  /* ---- formatting: x.toFixed(digits), "nan", infinity signs; as xent.web.format_number ---- */
  function fmt(x, digits) {
    if (Number.isNaN(x)) return "nan";
    if (x === Infinity) return "\u221e";
    if (x === -Infinity) return "\u2212\u221e";
    var s = x.toFixed(digits);
    if (/^-0\.?0*$/.test(s)) s = s.slice(1);
    return s;
  }

  /* ---- tiny DOM helpers ---- */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function num(name, value, digits) {
    return el("span", { "class": "xent-num", "data-name": name, "data-value": String(value) },
      [fmt(value, digits)]);
  }

  /* A labelled range input; `range` is [min, max, step] from the explorer's config. */
  function slider(ui, key, label, range, value) {
    var id = ui.id + "-" + key;
    var input = el("input", {
      type: "range", id: id, min: String(range[0]), max: String(range[1]), step: String(range[2]),
      value: String(value), "data-control": key
    });
    var decimals = (String(range[2]).split(".")[1] || "").length;
    var out = el("output", { "for": id, "class": "xent-slider-value" }, [fmt(value, decimals)]);
    input.addEventListener("input", function () {
      out.textContent = fmt(parseFloat(input.value), decimals);
      ui.update();
    });
    ui.controls.appendChild(el("div", { "class": "xent-control" },
      [el("label", { "for": id }, [label]), input, out]));
    return input;
  }

  function select(ui, key, label, options, value) {
    var id = ui.id + "-" + key;
    var node = el("select", { id: id, "data-control": key });
    options.forEach(function (opt) {
      var o = el("option", { value: String(opt[0]) }, [opt[1]]);
      if (String(opt[0]) === String(value)) o.selected = true;
      node.appendChild(o);
    });
    node.addEventListener("change", function () { ui.update(); });
    ui.controls.appendChild(el("div", { "class": "xent-control" },
      [el("label", { "for": id }, [label]), node]));
    return node;
  }

  /*
   * Horizontal bars, one row per item {name, label, value}; `scale` is the value of a full bar.
   * Signed bars grow left (negative) or right (positive) from a centre line.
   */
  function bars(items, scale, signed, digits, cls) {
    var table = el("div", { "class": "xent-bars" + (signed ? " xent-signed" : "") });
    items.forEach(function (it) {
      var frac = Math.max(0, Math.min(1, Math.abs(it.value) / scale));
      if (!Number.isFinite(frac)) frac = 0;
      var width = (signed ? 50 : 100) * frac;
      var style = "width:" + width.toFixed(2) + "%;";
      if (signed) style += it.value < 0 ? "right:50%;" : "left:50%;";
      var fill = el("div", {
        "class": "xent-fill " + (cls || "") + (signed && it.value < 0 ? " xent-neg" : ""),
        style: style
      });
      table.appendChild(el("div", { "class": "xent-bar-row" }, [
        el("span", { "class": "xent-bar-label" }, [it.label]),
        el("div", { "class": "xent-track", role: "presentation" }, [fill]),
        num(it.name, it.value, digits)
      ]));
    });
    return table;
  }

  function readout(rows) {
    var dl = el("dl", { "class": "xent-readout" });
    rows.forEach(function (r) {
      dl.appendChild(el("dt", {}, [r[0]]));
      dl.appendChild(el("dd", {}, [r[1]]));
    });
    return dl;
  }

  function heading(text) {
    return el("p", { "class": "xent-heading" }, [text]);
  }

  function values(inputs) {
    return inputs.map(function (i) { return parseFloat(i.value); });
  }

  function sub(i) {
    var digits = "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089";
    return String(i).split("").map(function (d) { return digits[+d]; }).join("");
  }

  /* ---- the five explorers ---- */
  var EXPLORERS = {};

  /* Chapter 1: H(p), H(p, q), H(q, p), KL(p || q) for a fixed p and a q set by sliders. */
  EXPLORERS.entropy = function (ui, cfg) {
    var p = cfg.p;
    var qs = cfg.q.map(function (v, i) {
      return slider(ui, "q" + i, "weight of q" + sub(i), cfg.ranges.q, v);
    });
    var unit = select(ui, "unit", "units", [["nats", "nats (log base e)"], ["bits", "bits (log base 2)"]],
      cfg.unit);
    return function () {
      var q = M.normalize(values(qs));
      var c = unit.value === "bits" ? Math.LN2 : 1; /* bits = nats / ln 2 */
      var hp = M.entropy(p) / c;
      var hpq = M.crossEntropy(p, q) / c;
      var hqp = M.crossEntropy(q, p) / c;
      var kl = M.klDivergence(p, q) / c;
      var items = [];
      p.forEach(function (pi, i) {
        items.push({ name: "p" + i, label: "p" + sub(i), value: pi });
        items.push({ name: "q" + i, label: "q" + sub(i), value: q[i] });
      });
      return [
        heading("p (fixed, grey) against q = your weights renormalised (blue)"),
        bars(items, 1, false, 4, "xent-pq"),
        readout([
          ["H(p)", num("H_p", hp, 4)],
          ["H(p, q)", num("H_pq", hpq, 4)],
          ["H(q, p)", num("H_qp", hqp, 4)],
          ["KL(p \u2016 q) = H(p, q) \u2212 H(p)", num("KL_pq", kl, 4)]
        ])
      ];
    };
  };

  /* Chapter 2: softmax(z / T) of logits z at temperature T. */
  EXPLORERS.softmax = function (ui, cfg) {
    var zs = cfg.logits.map(function (v, i) {
      return slider(ui, "z" + i, "logit z" + sub(i), cfg.ranges.z, v);
    });
    var t = slider(ui, "T", "temperature T", cfg.ranges.T, cfg.temperature);
    return function () {
      var p = M.softmax(values(zs), parseFloat(t.value));
      return [
        heading("softmax(z / T)"),
        bars(p.map(function (pi, i) { return { name: "p" + i, label: "p" + sub(i), value: pi }; }),
          1, false, 4),
        readout([["sum of p", num("sum_p", M.sum(p), 4)]])
      ];
    };
  };

  /* Chapter 3: the softmax Jacobian diag(p) - p p^T as a heatmap. */
  EXPLORERS.jacobian = function (ui, cfg) {
    var zs = cfg.logits.map(function (v, i) {
      return slider(ui, "z" + i, "logit z" + sub(i), cfg.ranges.z, v);
    });
    return function () {
      var p = M.softmax(values(zs));
      var jac = M.softmaxJacobian(p);
      var head = el("tr", {}, [el("th", { scope: "col" }, ["\u2202p\u1d62/\u2202z\u2c7c"])]);
      p.forEach(function (_, j) { head.appendChild(el("th", { scope: "col" }, ["z" + sub(j)])); });
      var table = el("table", { "class": "xent-heatmap" }, [el("thead", {}, [head])]);
      var body = el("tbody");
      jac.forEach(function (row, i) {
        var tr = el("tr", {}, [el("th", { scope: "row" }, ["p" + sub(i)])]);
        row.forEach(function (v, j) {
          var a = Math.min(1, Math.abs(v) / 0.25).toFixed(3);
          var color = v < 0 ? "rgba(31,119,180," + a + ")" : "rgba(214,39,40," + a + ")";
          tr.appendChild(el("td", { style: "background:" + color }, [num("J" + i + j, v, 4)]));
        });
        body.appendChild(tr);
      });
      table.appendChild(body);
      return [
        heading("p = softmax(z)"),
        bars(p.map(function (pi, i) { return { name: "p" + i, label: "p" + sub(i), value: pi }; }),
          1, false, 4),
        heading("J = diag(p) \u2212 p p\u1d40 (red positive, blue negative)"),
        table
      ];
    };
  };

  /* Chapter 4: loss -log p_y and gradient p - y for one sample. */
  EXPLORERS.ce_gradient = function (ui, cfg) {
    var zs = cfg.logits.map(function (v, i) {
      return slider(ui, "z" + i, "logit z" + sub(i), cfg.ranges.z, v);
    });
    var y = select(ui, "y", "true class y",
      cfg.logits.map(function (_, i) { return [i, "class " + i]; }), cfg.target);
    return function () {
      var z = values(zs);
      var target = parseInt(y.value, 10);
      var p = M.softmax(z);
      var g = M.ceGrad(z, target);
      return [
        readout([
          ["loss \u2212log p_y", num("loss", M.ceLoss(z, target), 4)],
          ["p_y", num("p_y", p[target], 4)]
        ]),
        heading("p = softmax(z)"),
        bars(p.map(function (pi, i) { return { name: "p" + i, label: "p" + sub(i), value: pi }; }),
          1, false, 4),
        heading("gradient \u2202L/\u2202z = p \u2212 y (one-hot y)"),
        bars(g.map(function (gi, i) { return { name: "g" + i, label: "g" + sub(i), value: gi }; }),
          1, true, 4, "xent-grad")
      ];
    };
  };

  /* Chapter 5: class weights on a fixed batch; loss normalised by the sum of target weights. */
  EXPLORERS.weighted_ce = function (ui, cfg) {
    var ws = cfg.weight.map(function (v, k) {
      return slider(ui, "w" + k, "weight of class " + k, cfg.ranges.w, v);
    });
    var ones = cfg.weight.map(function () { return 1; });
    var plain = M.weightedCrossEntropy(cfg.logits, cfg.targets, ones);
    return function () {
      var w = values(ws);
      var r = M.weightedCrossEntropy(cfg.logits, cfg.targets, w);
      var scale = Math.max.apply(null, r.gradNorm.concat(plain.gradNorm).filter(Number.isFinite));
      return [
        readout([
          ["weighted loss \u03a3 w_y\u2099 \u2113\u2099 / \u03a3 w_y\u2099", num("loss", r.loss, 4)],
          ["normaliser \u03a3 w_y\u2099", num("normalizer", r.normalizer, 4)],
          ["unweighted mean loss", num("loss_unweighted", plain.loss, 4)]
        ]),
        heading("per-sample gradient size \u2016\u2202L/\u2202z\u2099\u2016 (sample: true class)"),
        bars(r.gradNorm.map(function (v, n) {
          return { name: "gnorm" + n, label: "#" + n + ": class " + cfg.targets[n], value: v };
        }), scale > 0 ? scale : 1, false, 4, "xent-grad")
      ];
    };
  };

  /* ---- mounting ---- */
  function mount(rootEl) {
    if (rootEl.getAttribute("data-mounted") === "true") return;
    var kind = rootEl.getAttribute("data-explorer");
    var build = EXPLORERS[kind];
    if (!build) throw new Error("xent explorer: unknown kind " + kind);
    var cfg = JSON.parse(rootEl.getAttribute("data-config"));
    var fallback = rootEl.querySelector(".xent-fallback");
    if (fallback) fallback.remove();
    var ui = {
      id: rootEl.id,
      controls: el("div", { "class": "xent-controls" }),
      update: function () {}
    };
    var view = el("div", { "class": "xent-view" });
    var render = build(ui, cfg);
    ui.update = function () {
      var nodes = render();
      view.replaceChildren.apply(view, nodes);
    };
    rootEl.insertBefore(el("div", { "class": "xent-body" }, [ui.controls, view]),
      rootEl.querySelector(".xent-note"));
    ui.update();
    rootEl.setAttribute("data-mounted", "true");
  }

  function mountAll() {
    if (typeof document === "undefined") return;
    var roots = document.querySelectorAll(".xent-explorer[data-explorer]");
    Array.prototype.forEach.call(roots, mount);
  }

  /*
   * Called by the inline script right after an explorer's <div>: mount that explorer (found
   * from the script element itself, so it works even where the output is not yet attached to
   * the document, as in some notebook front ends), then any other unmounted explorer.
   */
  function mountFrom(script) {
    var prev = script && script.previousElementSibling;
    if (prev && prev.classList.contains("xent-explorer")) mount(prev);
    mountAll();
  }

  root.xentWeb = {
    fmt: fmt, mount: mount, mountAll: mountAll, mountFrom: mountFrom, kinds: Object.keys(EXPLORERS)
  };
})(typeof self !== "undefined" ? self : this);
