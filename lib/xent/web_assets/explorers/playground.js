/*
 * The training playground (its own page, playground.md): a softmax classifier on 2-D points of
 * K = 3 to 5 classes, trained in the browser by full-batch gradient descent on the cross-entropy
 * of chapters 4 and 5, with a learning rate, class weights, label smoothing and a temperature.
 *
 * The math is the book's `xent.nn.Linear(2, K)`, a temperature and
 * `xent.nn.CrossEntropyLoss(weight, label_smoothing)` stepped by `xent.optim.SGD`:
 *
 *   z_n = (x_n W + b) / T                                W: 2 x K, b: K, temperature T > 0
 *   u_nc = (1 - eps) w[y_n] [c = y_n] + (eps / K) w[c]    the effective target row (chapter 5)
 *   L = sum_n sum_c u_nc (-log softmax(z_n)_c) / sum_n w[y_n]      (PyTorch's "mean")
 *   dL/dz_n = ((sum_c u_nc) softmax(z_n) - u_n) / sum_n w[y_n]     (chapters 4 and 5)
 *   g_n = dL/dz_n / T,  dL/dW = X^T G,  dL/db = sum_n g_n,  dL/dx_n = g_n W^T
 *   W <- W - lr dL/dW,  b <- b - lr dL/db
 *
 * The named exports (lossAndGrads, step, train, blobs) take the browser-side math
 * (xent_math.js) as their last argument; tests/test_playground_math.py runs them under Node and
 * checks a few steps from a fixed start against xent's Linear, CrossEntropyLoss and SGD to 1e-9.
 *
 * The default export is an explorer kind of the engine (xent_engine.js): the engine draws the
 * named group, the sliders (learning rate, temperature, smoothing, class weights, K), the
 * readouts and the polite live region; `setup` adds what the engine does not draw: the plane
 * (decision regions, points, per-point gradient arrows; click or keyboard to add points), the
 * loss curve and the play/pause/step/reset buttons. On the website the browser trains (with
 * xent_math.js, which the loader hands to compute); in Jupyter the buttons ask the kernel,
 * whose widget (xent/explorers/playground.py) steps with xent.
 */

/* ---------------- the math ---------------- */

function zeros(n) {
  return Array.from({ length: n }, () => 0);
}

/* The logits z = (x W + b) / T of one point x = [x0, x1]. */
export function logits(params, x, temperature) {
  return params.b.map((bc, c) => (x[0] * params.W[0][c] + x[1] * params.W[1][c] + bc) / temperature);
}

/*
 * Loss and gradients on all points. data = {X: [[x0, x1], ...], y: [class, ...]};
 * options = {temperature, weight (K numbers), labelSmoothing}. Returns {loss, gradW (2 x K),
 * gradB (K), gradX (N x 2), correct (points whose largest logit is their class)}. With no
 * point of positive class weight the loss is NaN and every gradient 0, as in xent.
 */
export function lossAndGrads(params, data, options, math) {
  const K = params.b.length;
  const T = options.temperature;
  const w = options.weight;
  const eps = options.labelSmoothing;
  const N = data.X.length;
  const gradW = [zeros(K), zeros(K)];
  const gradB = zeros(K);
  const gradX = [];
  let normalizer = 0;
  let correct = 0;
  for (let n = 0; n < N; n++) normalizer += w[data.y[n]];
  let total = 0;
  for (let n = 0; n < N; n++) {
    const x = data.X[n];
    const yn = data.y[n];
    const z = logits(params, x, T);
    let best = 0;
    for (let c = 1; c < K; c++) if (z[c] > z[best]) best = c;
    if (best === yn) correct += 1;
    if (!(normalizer > 0)) {
      gradX.push([0, 0]);
      continue;
    }
    const logp = math.logSoftmax(z);
    const u = zeros(K);
    let mass = 0;
    for (let c = 0; c < K; c++) {
      u[c] = (c === yn ? (1 - eps) * w[yn] : 0) + (eps / K) * w[c];
      mass += u[c];
      total -= u[c] * logp[c];
    }
    const gx = [0, 0];
    for (let c = 0; c < K; c++) {
      const g = (mass * Math.exp(logp[c]) - u[c]) / normalizer / T; /* dL/d(x W + b) */
      gradW[0][c] += x[0] * g;
      gradW[1][c] += x[1] * g;
      gradB[c] += g;
      gx[0] += g * params.W[0][c];
      gx[1] += g * params.W[1][c];
    }
    gradX.push(gx);
  }
  const loss = normalizer > 0 ? total / normalizer : NaN;
  return { loss, gradW, gradB, gradX, correct };
}

/* One step of gradient descent with learning rate options.lr: {params (new), loss, ...}. */
export function step(params, data, options, math) {
  const r = lossAndGrads(params, data, options, math);
  r.params = {
    W: params.W.map((row, i) => row.map((v, c) => v - options.lr * r.gradW[i][c])),
    b: params.b.map((v, c) => v - options.lr * r.gradB[c]),
  };
  return r;
}

/* `steps` steps: {params, losses (before each step), last (loss and gradients after)}. */
export function train(params, data, options, steps, math) {
  const losses = [];
  for (let s = 0; s < steps; s++) {
    const r = step(params, data, options, math);
    losses.push(r.loss);
    params = r.params;
  }
  return { params, losses, last: lossAndGrads(params, data, options, math) };
}

/* A small seeded generator (mulberry32): the page shows the same points on every load. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* K Gaussian blobs of `perClass` points around a circle of radius `radius`, spread `spread`. */
export function blobs(seed, K, perClass, radius, spread) {
  const next = rng(seed);
  const X = [];
  const y = [];
  for (let c = 0; c < K; c++) {
    const angle = (2 * Math.PI * c) / K + 0.3;
    for (let i = 0; i < perClass; i++) {
      const r = Math.sqrt(-2 * Math.log(1 - next()));
      const t = 2 * Math.PI * next();
      X.push([radius * Math.cos(angle) + spread * r * Math.cos(t),
              radius * Math.sin(angle) + spread * r * Math.sin(t)]);
      y.push(c);
    }
  }
  return { X, y };
}

/* ---------------- the explorer ---------------- */

const EXTENT = 4; /* the plane shows [-4, 4] x [-4, 4] */
const PER_CLASS = 14;
const STEPS_PER_TICK = 2;
const TICK_MS = 60;
const MAX_STEPS = 5000;
const MAX_HISTORY = 600;
/* Okabe-Ito colours (distinguishable with colour-blindness), and a shape per class too. */
const COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2"];
const SHAPES = ["circle", "square", "triangle", "diamond", "cross"];
let MATH = null; /* xent_math.js, as handed to compute() by the site's loader */

const options = (s) => ({
  lr: s.lr, temperature: s.temperature, labelSmoothing: s.smoothing, weight: s.weight,
});

function fresh(K, seed) {
  const data = blobs(seed, K, PER_CLASS, 2.0, 1.0);
  return {
    points: data.X, labels: data.y, W: [zeros(K), zeros(K)], b: zeros(K),
    weight: zeros(K).map(() => 1), steps: 0, history: [],
  };
}

/* Probabilities for shading the regions where xent_math.js is not at hand (Jupyter). */
function shade(z) {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const total = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / total);
}

function setAll(model, values) {
  for (const [k, v] of Object.entries(values)) model.set(k, v);
  model.save_changes();
}

function readAll(model, keys) {
  const s = {};
  for (const k of keys) s[k] = model.get(k);
  return s;
}

function drawShape(ctx, shape, x, y, r) {
  ctx.beginPath();
  if (shape === "square") ctx.rect(x - r, y - r, 2 * r, 2 * r);
  else if (shape === "triangle") {
    ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r * 1.1, y + r * 0.8); ctx.lineTo(x - r * 1.1, y + r * 0.8);
    ctx.closePath();
  } else if (shape === "diamond") {
    ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.1, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.1, y);
    ctx.closePath();
  } else if (shape === "cross") {
    const a = r * 0.45;
    ctx.moveTo(x - r, y - a); ctx.lineTo(x - a, y - a); ctx.lineTo(x - a, y - r); ctx.lineTo(x + a, y - r);
    ctx.lineTo(x + a, y - a); ctx.lineTo(x + r, y - a); ctx.lineTo(x + r, y + a); ctx.lineTo(x + a, y + a);
    ctx.lineTo(x + a, y + r); ctx.lineTo(x - a, y + r); ctx.lineTo(x - a, y + a); ctx.lineTo(x - r, y + a);
    ctx.closePath();
  } else ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
}

export default {
  title: "Training playground: a softmax classifier trained by gradient descent",
  state: ["classes", "points", "labels", "W", "b", "lr", "temperature", "smoothing", "weight",
          "steps", "history", "seed", "running", "ranges"],
  controls: (s, h) => [
    { key: "classes", label: "classes C", options: [[3, "3"], [4, "4"], [5, "5"]] },
    { key: "lr", label: "learning rate", min: s.ranges.lr[0], max: s.ranges.lr[1], step: s.ranges.lr[2] },
    { key: "temperature", label: "temperature T",
      min: s.ranges.T[0], max: s.ranges.T[1], step: s.ranges.T[2] },
    { key: "smoothing", label: "label smoothing \u03b5",
      min: s.ranges.eps[0], max: s.ranges.eps[1], step: s.ranges.eps[2] },
    ...s.weight.map((_, k) => ({
      key: "weight", index: k, label: "weight of class " + k,
      min: s.ranges.w[0], max: s.ranges.w[1], step: s.ranges.w[2],
    })),
  ],
  compute: (s, math) => {
    MATH = math;
    const r = lossAndGrads({ W: s.W, b: s.b }, { X: s.points, y: s.labels }, options(s), math);
    const n = s.points.length;
    return { loss: r.loss, accuracy: n ? r.correct / n : NaN, grad_x: r.gradX, steps: s.steps, points: n };
  },
  view: (r, s, h) => [
    h.el("dl", { class: "xent-readout" }, [
      h.el("dt", {}, ["steps taken"]),
      h.el("dd", {}, [h.el("span", { "data-count": "steps" }, [String(r.steps)])]),
      h.el("dt", {}, ["points"]),
      h.el("dd", {}, [h.el("span", { "data-count": "points" }, [String(r.points)])]),
    ]),
    h.readout([["loss L", "loss", r.loss], ["accuracy", "accuracy", r.accuracy]]),
  ],
  announce: (r, s, h) => (s.running ? "" :
    `step ${r.steps}: loss ${h.fmt(r.loss)}, accuracy ${h.fmt(100 * r.accuracy, 1)} percent`),

  setup(root, model, h) {
    const keys = this.state;
    const el = h.el;
    const uid = root.id || "playground";
    const plane = el("canvas", {
      class: "pg-plane", width: "360", height: "360", tabindex: "0", role: "img",
    });
    const curve = el("canvas", { class: "pg-curve", width: "360", height: "110", role: "img" });
    const play = el("button", { type: "button", class: "pg-button", "aria-pressed": "false" }, ["Play"]);
    const once = el("button", { type: "button", class: "pg-button" }, ["Step"]);
    const reset = el("button", { type: "button", class: "pg-button" }, ["Reset"]);
    const pick = el("select", { id: uid + "-new-class", class: "pg-new-class" });
    const help = el("p", { class: "pg-help", id: uid + "-help" }, [
      "Click the plane to add a point of the chosen class (keyboard: focus the plane, move the " +
      "cross with the arrow keys, press Enter). Arrows show \u2212\u2202L/\u2202x\u1d62, the way " +
      "each point would move to lower the loss (the longest drawn 28 px long).",
    ]);
    plane.setAttribute("aria-describedby", help.id);
    const stage = el("div", { class: "pg-stage" }, [
      el("div", { class: "pg-toolbar" }, [
        play, once, reset,
        el("label", { for: pick.id }, ["class of new points"]), pick,
      ]),
      el("div", { class: "pg-figures" }, [plane, curve]),
      help,
    ]);
    root.insertBefore(stage, root.firstChild);
    let cursor = null; /* keyboard cursor in data coordinates */
    let timer = null;

    const fillPick = () => {
      const K = model.get("b").length;
      if (pick.options.length === K) return;
      pick.replaceChildren(...Array.from({ length: K }, (_, k) => el("option", { value: String(k) }, ["class " + k])));
    };

    const toPixel = (v, size) => ((v + EXTENT) / (2 * EXTENT)) * size;
    const toData = (px, size) => (px / size) * 2 * EXTENT - EXTENT;

    const drawPlane = () => {
      const s = readAll(model, keys);
      const r = model.get("results") || {};
      const ctx = plane.getContext("2d");
      const W = plane.width;
      const H = plane.height;
      const K = s.b.length;
      const ink = getComputedStyle(root).color || "#222";
      ctx.clearRect(0, 0, W, H);
      const cell = 6;
      for (let py = 0; py < H; py += cell) {
        for (let px = 0; px < W; px += cell) {
          const x = [toData(px + cell / 2, W), -toData(py + cell / 2, H)];
          const z = logits({ W: s.W, b: s.b }, x, s.temperature);
          const p = MATH ? MATH.softmax(z) : shade(z);
          let best = 0;
          for (let c = 1; c < K; c++) if (z[c] > z[best]) best = c;
          const sure = K > 1 ? (p[best] - 1 / K) / (1 - 1 / K) : 1;
          ctx.globalAlpha = 0.12 + 0.38 * Math.max(0, Math.min(1, sure));
          ctx.fillStyle = COLOURS[best];
          ctx.fillRect(px, py, cell, cell);
        }
      }
      ctx.globalAlpha = 1;
      const gx = r.grad_x || [];
      const longest = Math.max(1e-300, ...gx.map((g) => Math.hypot(g[0], g[1])));
      ctx.lineWidth = 1.5;
      s.points.forEach((pt, n) => {
        const x = toPixel(pt[0], W);
        const y = toPixel(-pt[1], H);
        const g = gx[n];
        if (g && Number.isFinite(g[0]) && (g[0] || g[1])) {
          const len = (28 * Math.hypot(g[0], g[1])) / longest;
          const ux = -g[0] / Math.hypot(g[0], g[1]);
          const uy = g[1] / Math.hypot(g[0], g[1]); /* the plane's y axis points up */
          ctx.strokeStyle = ink;
          ctx.beginPath();
          ctx.moveTo(x, y);
          ctx.lineTo(x + ux * len, y + uy * len);
          ctx.stroke();
          if (len > 6) {
            ctx.beginPath();
            ctx.moveTo(x + ux * len, y + uy * len);
            ctx.lineTo(x + ux * (len - 5) - uy * 3, y + uy * (len - 5) + ux * 3);
            ctx.lineTo(x + ux * (len - 5) + uy * 3, y + uy * (len - 5) - ux * 3);
            ctx.closePath();
            ctx.fillStyle = ink;
            ctx.fill();
          }
        }
        ctx.fillStyle = COLOURS[s.labels[n]];
        ctx.strokeStyle = ink;
        drawShape(ctx, SHAPES[s.labels[n]], x, y, 4.5);
      });
      if (cursor) {
        const x = toPixel(cursor[0], W);
        const y = toPixel(-cursor[1], H);
        ctx.strokeStyle = ink;
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x - 9, y); ctx.lineTo(x + 9, y); ctx.moveTo(x, y - 9); ctx.lineTo(x, y + 9);
        ctx.stroke();
      }
      plane.setAttribute("aria-label",
        `Decision regions of ${K} classes after ${s.steps} steps: ${s.points.length} points, ` +
        `accuracy ${h.fmt(100 * r.accuracy, 1)} percent` +
        (cursor ? `; cross at (${h.fmt(cursor[0], 2)}, ${h.fmt(cursor[1], 2)})` : ""));
    };

    const drawCurve = () => {
      const s = readAll(model, keys);
      const r = model.get("results") || {};
      const losses = [...s.history, r.loss].filter(Number.isFinite);
      const ctx = curve.getContext("2d");
      const W = curve.width;
      const H = curve.height;
      const ink = getComputedStyle(root).color || "#222";
      ctx.clearRect(0, 0, W, H);
      ctx.strokeStyle = ink;
      ctx.fillStyle = ink;
      ctx.lineWidth = 1;
      ctx.font = "11px sans-serif";
      ctx.beginPath();
      ctx.moveTo(30, 6); ctx.lineTo(30, H - 16); ctx.lineTo(W - 4, H - 16);
      ctx.stroke();
      ctx.fillText("loss", 2, 12);
      ctx.fillText("steps", W - 34, H - 3);
      if (losses.length) {
        const top = Math.max(...losses, 1e-9);
        ctx.fillText(h.fmt(top, 2), 2, 24);
        ctx.fillText("0", 18, H - 16);
        ctx.lineWidth = 2;
        ctx.strokeStyle = COLOURS[4];
        ctx.beginPath();
        losses.forEach((v, i) => {
          const x = 30 + ((W - 36) * i) / Math.max(1, losses.length - 1);
          const y = H - 16 - ((H - 24) * v) / top;
          if (i === 0) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
        });
        ctx.stroke();
      }
      const first = losses[0];
      const last = losses[losses.length - 1];
      curve.setAttribute("aria-label", losses.length > 1
        ? `Loss curve over the last ${losses.length - 1} steps: from ${h.fmt(first)} to ${h.fmt(last)}`
        : "Loss curve: no step taken yet");
    };

    const redraw = () => {
      fillPick();
      drawPlane();
      drawCurve();
    };

    const advance = (n) => {
      if (!MATH) {
        /* Jupyter: the kernel takes the steps, with xent (PlaygroundExplorer.train) */
        setAll(model, { train_request: n });
        return;
      }
      const s = readAll(model, keys);
      let params = { W: s.W, b: s.b };
      const history = s.history.slice();
      const data = { X: s.points, y: s.labels };
      for (let k = 0; k < n; k++) {
        const r = step(params, data, options(s), MATH);
        history.push(r.loss);
        params = r.params;
      }
      setAll(model, {
        W: params.W, b: params.b, steps: s.steps + n, history: history.slice(-MAX_HISTORY),
      });
    };

    const stop = () => {
      if (timer !== null) clearInterval(timer);
      timer = null;
      play.textContent = "Play";
      play.setAttribute("aria-pressed", "false");
      if (model.get("running")) setAll(model, { running: false });
    };
    const start = () => {
      play.textContent = "Pause";
      play.setAttribute("aria-pressed", "true");
      setAll(model, { running: true });
      timer = setInterval(() => {
        if (model.get("steps") >= MAX_STEPS) return stop();
        advance(STEPS_PER_TICK);
      }, TICK_MS);
    };

    const addPoint = (x) => {
      const k = Number(pick.value || 0);
      setAll(model, { points: [...model.get("points"), x], labels: [...model.get("labels"), k] });
    };

    play.addEventListener("click", () => (timer === null ? start() : stop()));
    once.addEventListener("click", () => advance(1));
    reset.addEventListener("click", () => {
      stop();
      setAll(model, fresh(model.get("b").length, model.get("seed")));
    });
    plane.addEventListener("click", (ev) => {
      const box = plane.getBoundingClientRect();
      const x = toData(((ev.clientX - box.left) * plane.width) / box.width, plane.width);
      const y = -toData(((ev.clientY - box.top) * plane.height) / box.height, plane.height);
      addPoint([x, y]);
    });
    plane.addEventListener("keydown", (ev) => {
      const moves = { ArrowLeft: [-0.25, 0], ArrowRight: [0.25, 0], ArrowUp: [0, 0.25], ArrowDown: [0, -0.25] };
      if (moves[ev.key]) {
        cursor = cursor || [0, 0];
        cursor = cursor.map((v, i) => Math.max(-EXTENT, Math.min(EXTENT, v + moves[ev.key][i])));
        ev.preventDefault();
        drawPlane();
      } else if ((ev.key === "Enter" || ev.key === " ") && cursor) {
        ev.preventDefault();
        addPoint(cursor.slice());
      }
    });
    const onClasses = () => {
      stop();
      setAll(model, fresh(model.get("classes"), model.get("seed")));
    };
    model.on("change:classes", onClasses);
    model.on("change:results", redraw);
    /* redraw when the reader switches between the light and the dark theme */
    const watcher = new MutationObserver(redraw);
    watcher.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    if (model.get("points").length === 0) {
      setAll(model, fresh(model.get("classes"), model.get("seed")));
    } else {
      redraw();
    }
    return () => {
      stop();
      watcher.disconnect();
      model.off("change:classes", onClasses);
      model.off("change:results", redraw);
    };
  },
};
