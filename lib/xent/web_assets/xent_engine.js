/*
 * xent_engine.js: the one engine behind every explorer of the book (an ES module, no imports).
 *
 * An explorer KIND is one file, explorers/<kind>.js, whose default export describes it:
 *
 *   export default {
 *     title: "Softmax explorer",                      // the group's accessible name
 *     state: ["logits", "temperature"],               // the model keys the reader can change
 *     controls: (state, h) => [                       // one labelled control per entry
 *       { key: "logits", index: 0, label: "logit z0", min: -10, max: 10, step: 0.1 },
 *       { key: "temperature", label: "temperature T", min: 0.05, max: 5, step: 0.05 },
 *       { key: "unit", label: "units", options: [["nats", "nats"], ["bits", "bits"]] },
 *     ],
 *     compute: (state, math) => ({ p: math.softmax(state.logits, state.temperature) }),
 *     view: (results, state, h) => [h.bars(...), h.readout([...])],   // DOM nodes
 *     announce: (results, state, h) => "p0 0.6439, ...",              // for screen readers
 *     setup: (root, model, h) => cleanup,   // optional: build once what the engine does not
 *   };                                      // draw (a canvas, buttons); return a cleanup, or
 *                                           // a promise: "mounted" once it resolves
 *
 * The same view runs in two places:
 * - In Jupyter, as an anywidget: `render({model, el})` (the default export below) gets the kind's
 *   source from the model (`_kind_js`, sent by the Python widget) and mounts it on the widget's
 *   model, whose `results` are computed by `xent` in the kernel on every state change.
 * - On the website, without a kernel: xent_site.js finds each
 *   <div class="xent-explorer" data-explorer="KIND" data-config="{...}">, imports
 *   explorers/KIND.js and mounts it on `localModel(config, compute)`, a model object with the same
 *   get/set/on/save_changes as anywidget's, whose `results` come from `compute(state, xent_math)`.
 *
 * Built in, for every kind: the explorer is a named group (role="group", aria-label = title);
 * every control has a visible <label>; slider values are shown next to the slider; the results
 * are mirrored, throttled, in a polite aria-live region; each displayed number carries
 * data-name and data-value (full precision) for the tests: name a displayed number after its key
 * in `results`, plus its indices ("p0", "J12"), and the browser tests compare it with the
 * Python widget's results. Styles: xent_explorers.css.
 * The recipe for a new kind, with the Python side, is in web_assets/README.md.
 */

const ANNOUNCE_MS = 750; /* at most one screen-reader announcement per this many milliseconds */
let mounted = 0; /* a counter for ids unique within the page */

/* ---- numbers ---- */

/* Non-finite numbers travel from Python as the strings "Infinity", "-Infinity", "NaN". */
export function decode(v) {
  if (typeof v === "string" && /^(-?Infinity|NaN)$/.test(v)) return Number(v);
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v)) out[k] = decode(v[k]);
    return out;
  }
  return v;
}

/* A number as every explorer shows it: x.toFixed(digits), no "-0.0000", "nan", infinity signs. */
export function fmt(x, digits = 4) {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "\u221e";
  if (x === -Infinity) return "\u2212\u221e";
  let s = x.toFixed(digits);
  if (/^-0\.?0*$/.test(s)) s = s.slice(1);
  return s;
}

/* Subscript digits: sub(12) is "\u2081\u2082". */
export function sub(i) {
  const digits = "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089";
  return String(i).split("").map((d) => digits[+d]).join("");
}

/* ---- DOM building blocks, handed to a kind's view as `h` ---- */

export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

/* A displayed number; data-value keeps full precision for the tests. */
function num(name, value, digits = 4) {
  return el("span", { class: "xent-num", "data-name": name, "data-value": String(value) },
    [fmt(value, digits)]);
}

function heading(text) {
  return el("p", { class: "xent-heading" }, [text]);
}

/* Label/value rows: rows = [[label, name, value], ...]. */
function readout(rows, digits = 4) {
  const dl = el("dl", { class: "xent-readout" });
  for (const [label, name, value] of rows) {
    dl.append(el("dt", {}, [label]), el("dd", {}, [num(name, value, digits)]));
  }
  return dl;
}

/*
 * Horizontal bars, one row per item {name, label, value}; `scale` is the value of a full bar.
 * Signed bars grow left (negative) or right (positive) from a centre line. `tone` picks a
 * colour class ("grad", "alt": see the CSS). Bars are drawing only: the number beside each
 * is the text a screen reader reads.
 */
function bars(items, { scale = 1, signed = false, digits = 4, tone = "" } = {}) {
  const box = el("div", { class: "xent-bars" + (signed ? " xent-signed" : "") });
  for (const it of items) {
    let frac = Math.min(1, Math.abs(it.value) / scale);
    if (!Number.isFinite(frac)) frac = 0;
    let style = `width:${((signed ? 50 : 100) * frac).toFixed(2)}%;`;
    if (signed) style += it.value < 0 ? "right:50%;" : "left:50%;";
    const tones = [it.tone || tone, signed && it.value < 0 ? "neg" : ""].filter(Boolean);
    const fill = el("div", {
      class: ["xent-fill", ...tones.map((t) => "xent-" + t)].join(" "), style,
    });
    box.append(el("div", { class: "xent-bar-row" }, [
      el("span", { class: "xent-bar-label" }, [it.label]),
      el("div", { class: "xent-track", "aria-hidden": "true" }, [fill]),
      num(it.name, it.value, digits),
    ]));
  }
  return box;
}

/*
 * A matrix as a table with a diverging colour scale (positive warm, negative cool), opacity
 * |v| / scale. rowLabels and colLabels name the rows and columns; corner labels the corner.
 */
function heatmap(matrix, { name = "M", rowLabels, colLabels, corner = "", scale = 1 }) {
  const head = el("tr", {}, [el("th", { scope: "col" }, [corner])]);
  for (const c of colLabels) head.append(el("th", { scope: "col" }, [c]));
  const body = el("tbody");
  matrix.forEach((row, i) => {
    const tr = el("tr", {}, [el("th", { scope: "row" }, [rowLabels[i]])]);
    row.forEach((v, j) => {
      const a = Math.min(1, Math.abs(v) / scale);
      tr.append(el("td", {
        class: v < 0 ? "xent-cool" : "xent-warm", style: `--xent-a:${a.toFixed(3)}`,
      }, [num(name + i + j, v)]));
    });
    body.append(tr);
  });
  return el("table", { class: "xent-heatmap" }, [el("thead", {}, [head]), body]);
}

export const h = { el, fmt, sub, num, heading, readout, bars, heatmap };

/* ---- controls ---- */

function readState(model, keys) {
  const state = {};
  for (const k of keys) state[k] = model.get(k);
  return state;
}

function decimals(step) {
  return (String(step).split(".")[1] || "").length;
}

/* One labelled control bound to model key (and array index); returns {node, refresh}. */
function control(model, def, uid) {
  const id = `${uid}-${def.key}${def.index ?? ""}`;
  const current = () => (def.index === undefined ? model.get(def.key) : model.get(def.key)[def.index]);
  const write = (value) => {
    if (def.index === undefined) {
      model.set(def.key, value);
    } else {
      const arr = model.get(def.key).slice();
      arr[def.index] = value;
      model.set(def.key, arr);
    }
    model.save_changes();
  };
  const label = el("label", { for: id }, [def.label]);
  let input;
  let shown = null;
  if (def.options) {
    input = el("select", { id });
    for (const [value, text] of def.options) input.append(el("option", { value: String(value) }, [text]));
    input.addEventListener("change", () => {
      const raw = input.value;
      write(typeof def.options[0][0] === "number" ? Number(raw) : raw);
    });
  } else {
    input = el("input", {
      id, type: "range", min: String(def.min), max: String(def.max), step: String(def.step),
    });
    shown = el("output", { for: id, class: "xent-slider-value", "aria-hidden": "true" });
    input.addEventListener("input", () => write(parseFloat(input.value)));
  }
  input.dataset.control = `${def.key}${def.index ?? ""}`;
  /* in JupyterLab, arrow keys on a focused control move it, not the notebook's cell selection */
  input.setAttribute("data-lm-suppress-shortcuts", "true");
  const refresh = () => {
    const v = current();
    if (String(input.value) !== String(v)) input.value = String(v);
    if (shown) shown.textContent = fmt(Number(v), decimals(def.step));
  };
  refresh();
  const node = el("div", { class: "xent-control" }, shown ? [label, input, shown] : [label, input]);
  return { node, refresh };
}

/* ---- mounting a kind on a model ---- */

/*
 * Build `spec`'s explorer inside `root` on `model` (anywidget's or localModel's). Returns a
 * cleanup function that detaches the listeners.
 */
export function mount(root, spec, model) {
  const uid = `xent-${++mounted}`;
  root.classList.add("xent-explorer", "mathjax_ignore", "tex2jax_ignore");
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", model.get("title") || spec.title);
  root.querySelectorAll(".xent-fallback").forEach((n) => n.remove());

  const controls = el("div", { class: "xent-controls" });
  const view = el("div", { class: "xent-view" });
  const live = el("div", { class: "xent-live", "aria-live": "polite", role: "status" });
  root.append(el("div", { class: "xent-body" }, [controls, view]), live);

  let bound = [];
  let shape = "";
  const buildControls = () => {
    const defs = spec.controls(readState(model, spec.state), h);
    const next = JSON.stringify(defs.map((d) => [d.key, d.index]));
    if (next === shape) return bound.forEach((b) => b.refresh());
    shape = next;
    bound = defs.map((d) => control(model, d, uid));
    controls.replaceChildren(...bound.map((b) => b.node));
  };

  let timer = null;
  let lastAnnounced = 0;
  const announce = () => {
    timer = null;
    lastAnnounced = Date.now();
    const results = decode(model.get("results"));
    if (spec.announce) live.textContent = spec.announce(results, readState(model, spec.state), h);
  };
  const draw = () => {
    const results = decode(model.get("results") || {});
    if (!Object.keys(results).length) return; /* not computed yet */
    view.replaceChildren(...spec.view(results, readState(model, spec.state), h));
    if (timer === null) {
      timer = setTimeout(announce, Math.max(0, lastAnnounced + ANNOUNCE_MS - Date.now()));
    }
  };

  const listeners = [["change:results", draw], ...spec.state.map((k) => [`change:${k}`, buildControls])];
  for (const [event, fn] of listeners) model.on(event, fn);
  buildControls();
  draw();
  root.xent = { model, spec }; /* for the browser tests and for debugging in the console */
  /* optional: parts the engine does not draw (a canvas, buttons), built once with the model;
     setup returns a cleanup function, or a promise (data still loading: mounted when it ends) */
  const extra = spec.setup ? spec.setup(root, model, h) : null;
  const done = () => { root.dataset.mounted = "true"; };
  if (extra && typeof extra.then === "function") extra.then(done);
  else done();
  return () => {
    for (const [event, fn] of listeners) model.off(event, fn);
    if (timer !== null) clearTimeout(timer);
    if (typeof extra === "function") extra();
  };
}

/*
 * A model for the website: anywidget's get/set/on/off/save_changes on a plain object, whose
 * save_changes recomputes `results = compute(state)` in the browser.
 */
export function localModel(initial, keys, compute) {
  const data = { ...initial };
  const handlers = new Map();
  const emit = (event) => (handlers.get(event) || []).slice().forEach((fn) => fn());
  const changed = new Set();
  const model = {
    get: (key) => data[key],
    set(key, value) {
      data[key] = value;
      changed.add(key);
    },
    on(event, fn) {
      handlers.set(event, [...(handlers.get(event) || []), fn]);
    },
    off(event, fn) {
      handlers.set(event, (handlers.get(event) || []).filter((f) => f !== fn));
    },
    save_changes() {
      data.results = compute(readState(model, keys));
      changed.add("results");
      const events = [...changed];
      changed.clear();
      for (const key of events) emit(`change:${key}`);
    },
  };
  data.results = compute(readState(model, keys));
  return model;
}

/* Evaluate an ES module given as text (the kind's file, sent by the Python widget). */
async function importText(text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
  try {
    return await import(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/* anywidget's entry point: the live widget in Jupyter, numbers from xent in the kernel. */
async function render({ model, el: root }) {
  const spec = (await importText(model.get("_kind_js"))).default;
  return mount(root, spec, model);
}

export default { render };
