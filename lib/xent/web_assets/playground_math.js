/*
 * playground_math.js: the training playground's math, in plain JavaScript.
 *
 * A softmax classifier on 2-D points (the book's `xent.nn.Linear(2, K)` followed by a
 * temperature and `xent.nn.CrossEntropyLoss(weight, label_smoothing)`), trained by full-batch
 * gradient descent (`xent.optim.SGD`). For points x_n (rows of X, n = 0..N-1) with classes y_n:
 *
 *   z_n = (x_n W + b) / T                                W: 2 x K, b: K, temperature T > 0
 *   u_nc = (1 - eps) w[y_n] [c = y_n] + (eps / K) w[c]    the effective target row (chapter 5)
 *   L = sum_n sum_c u_nc (-log softmax(z_n)_c) / sum_n w[y_n]      (PyTorch's "mean")
 *   dL/dz_n = ((sum_c u_nc) softmax(z_n) - u_n) / sum_n w[y_n]     (chapters 4 and 5)
 *   g_n = dL/dz_n / T,  dL/dW = X^T G,  dL/db = sum_n g_n,  dL/dx_n = g_n W^T
 *   W <- W - lr dL/dW,  b <- b - lr dL/db                   (one step of gradient descent)
 *
 * tests/test_playground_math.py runs this file under Node and checks a few steps from a fixed
 * start against xent's own Linear, CrossEntropyLoss and SGD to 1e-9.
 *
 * Uses xent_math.js (logSoftmax). Works as a CommonJS module in Node and as a plain script
 * (window.xentPlaygroundMath) after xent_math.js in the browser.
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory(require("./xent_math.js"));
  } else {
    root.xentPlaygroundMath = factory(root.xentMath);
  }
})(typeof self !== "undefined" ? self : this, function (M) {
  "use strict";

  function zeros(n) {
    var out = new Array(n);
    for (var i = 0; i < n; i++) out[i] = 0;
    return out;
  }

  /* A model of K classes: W (2 rows of K), b (K), all zero (the uniform classifier). */
  function zeroModel(K) {
    return { W: [zeros(K), zeros(K)], b: zeros(K) };
  }

  function copyModel(model) {
    return { W: model.W.map(function (r) { return r.slice(); }), b: model.b.slice() };
  }

  /* The logits z = (x W + b) / T of one point x = [x0, x1]. */
  function logits(model, x, temperature) {
    var K = model.b.length;
    var z = new Array(K);
    for (var c = 0; c < K; c++) {
      z[c] = (x[0] * model.W[0][c] + x[1] * model.W[1][c] + model.b[c]) / temperature;
    }
    return z;
  }

  /*
   * Loss and gradients of the whole set of points.
   *   data: {X: [[x0, x1], ...], y: [class, ...]}
   *   options: {temperature, weight (K numbers, default all 1), labelSmoothing (default 0)}
   * Returns {loss, gradW (2 x K), gradB (K), gradX (N x 2), probs (N x K)}; with no points, or
   * when every point's class weight is 0, the loss is NaN and the gradients are 0 (nothing to
   * learn from).
   */
  function lossAndGrads(model, data, options) {
    var K = model.b.length;
    var T = options.temperature === undefined ? 1 : options.temperature;
    var w = options.weight || zeros(K).map(function () { return 1; });
    var eps = options.labelSmoothing || 0;
    var N = data.X.length;
    var gradW = [zeros(K), zeros(K)];
    var gradB = zeros(K);
    var gradX = [];
    var probs = [];
    var normalizer = 0;
    for (var n = 0; n < N; n++) normalizer += w[data.y[n]];
    if (!(normalizer > 0)) {
      for (n = 0; n < N; n++) { gradX.push([0, 0]); probs.push(zeros(K)); }
      return { loss: NaN, gradW: gradW, gradB: gradB, gradX: gradX, probs: probs };
    }
    var total = 0;
    for (n = 0; n < N; n++) {
      var x = data.X[n];
      var yn = data.y[n];
      var logp = M.logSoftmax(logits(model, x, T));
      var p = logp.map(Math.exp);
      var u = new Array(K);
      var mass = 0;
      for (var c = 0; c < K; c++) {
        u[c] = (c === yn ? (1 - eps) * w[yn] : 0) + (eps / K) * w[c];
        mass += u[c];
        total -= u[c] * logp[c];
      }
      var gx = [0, 0];
      for (c = 0; c < K; c++) {
        var g = (mass * p[c] - u[c]) / normalizer / T; /* dL/d(x W + b) */
        gradW[0][c] += x[0] * g;
        gradW[1][c] += x[1] * g;
        gradB[c] += g;
        gx[0] += g * model.W[0][c];
        gx[1] += g * model.W[1][c];
      }
      gradX.push(gx);
      probs.push(p);
    }
    return { loss: total / normalizer, gradW: gradW, gradB: gradB, gradX: gradX, probs: probs };
  }

  /* One step of gradient descent with learning rate options.lr; returns {model, loss, ...}. */
  function step(model, data, options) {
    var r = lossAndGrads(model, data, options);
    var next = copyModel(model);
    for (var c = 0; c < model.b.length; c++) {
      next.W[0][c] -= options.lr * r.gradW[0][c];
      next.W[1][c] -= options.lr * r.gradW[1][c];
      next.b[c] -= options.lr * r.gradB[c];
    }
    r.model = next;
    return r;
  }

  /* `steps` steps from `model`; returns {model, losses (before each step), last (after)}. */
  function train(model, data, options, steps) {
    var losses = [];
    for (var s = 0; s < steps; s++) {
      var r = step(model, data, options);
      losses.push(r.loss);
      model = r.model;
    }
    return { model: model, losses: losses, last: lossAndGrads(model, data, options) };
  }

  /* Predicted class and its probability at each point of a grid (for the decision regions). */
  function predict(model, x, temperature) {
    var z = logits(model, x, temperature === undefined ? 1 : temperature);
    var best = 0;
    for (var c = 1; c < z.length; c++) if (z[c] > z[best]) best = c;
    return { cls: best, prob: M.softmax(z)[best] };
  }

  /* A small seeded generator (mulberry32), so a page shows the same points on every load. */
  function rng(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /* K Gaussian blobs of `perClass` points around a circle of radius `radius` (spread `spread`). */
  function blobs(seed, K, perClass, radius, spread) {
    var next = rng(seed);
    var X = [];
    var y = [];
    for (var c = 0; c < K; c++) {
      var angle = (2 * Math.PI * c) / K + 0.3;
      for (var i = 0; i < perClass; i++) {
        var r = Math.sqrt(-2 * Math.log(1 - next()));
        var t = 2 * Math.PI * next();
        X.push([radius * Math.cos(angle) + spread * r * Math.cos(t),
                radius * Math.sin(angle) + spread * r * Math.sin(t)]);
        y.push(c);
      }
    }
    return { X: X, y: y };
  }

  return {
    zeroModel: zeroModel,
    copyModel: copyModel,
    logits: logits,
    lossAndGrads: lossAndGrads,
    step: step,
    train: train,
    predict: predict,
    rng: rng,
    blobs: blobs
  };
});
