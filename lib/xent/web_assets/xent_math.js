/*
 * xent_math.js: the math of the book's explorers in the browser, in plain JavaScript.
 *
 * The same formulas as the Python library `xent` (chapters 1 to 5), for plain arrays of
 * numbers. An ES module with no imports: the site's loader (xent_site.js) hands it to each
 * explorer kind's `compute(state, math)`. tests/test_web_math.py runs this file under Node and
 * checks every function against `xent` to 1e-11 on a grid that includes extreme logits
 * (+-1e4, +-700).
 */

export function sum(x) {
  var s = 0;
  for (var i = 0; i < x.length; i++) s += x[i];
  return s;
}

export function max(x) {
  var m = -Infinity;
  for (var i = 0; i < x.length; i++) if (x[i] > m) m = x[i];
  return m;
}

/* log sum_j exp(z_j) = m + log sum_j exp(z_j - m), m = max_j z_j (chapter 2). */
export function logsumexp(z) {
  var m = max(z);
  var s = 0;
  for (var i = 0; i < z.length; i++) s += Math.exp(z[i] - m);
  return m + Math.log(s);
}

/* softmax(z / T)_i = exp((z_i - m) / T) / sum_j exp((z_j - m) / T), m = max_j z_j (chapter 2). */
export function softmax(z, temperature) {
  var t = temperature === undefined ? 1 : temperature;
  var m = max(z);
  var e = z.map(function (v) { return Math.exp((v - m) / t); });
  var s = sum(e);
  return e.map(function (v) { return v / s; });
}

/* log softmax(z)_i = z_i - logsumexp(z) = (z_i - m) - log sum_j exp(z_j - m) (chapter 2).
   Shifting first keeps small log-probabilities exact next to logits like 1e4. */
export function logSoftmax(z) {
  var m = max(z);
  var s = 0;
  for (var i = 0; i < z.length; i++) s += Math.exp(z[i] - m);
  var logS = Math.log(s);
  return z.map(function (v) { return (v - m) - logS; });
}

/* H(p) = -sum_i p_i log p_i, with 0 log 0 = 0 (chapter 1). */
export function entropy(p) {
  var h = 0;
  for (var i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(p[i]);
  return h;
}

/* H(p, q) = -sum_i p_i log q_i; terms with p_i = 0 are 0; p_i > 0 = q_i gives +Infinity (chapter 1). */
export function crossEntropy(p, q) {
  var h = 0;
  for (var i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(q[i]);
  return h;
}

/* KL(p || q) = sum_i p_i (log p_i - log q_i) = H(p, q) - H(p) (chapter 1). */
export function klDivergence(p, q) {
  var d = 0;
  for (var i = 0; i < p.length; i++) if (p[i] > 0) d += p[i] * (Math.log(p[i]) - Math.log(q[i]));
  return Math.max(d, 0); /* rounding can leave a hair below 0 when p == q; KL >= 0 */
}

/* Turn non-negative weights into a distribution w / sum(w); all zero gives the uniform one. */
export function normalize(w) {
  var s = sum(w);
  if (!(s > 0)) return w.map(function () { return 1 / w.length; });
  return w.map(function (v) { return v / s; });
}

/* J = diag(p) - p p^T, J_ij = p_i (delta_ij - p_j) (chapter 3). */
export function softmaxJacobian(p) {
  return p.map(function (pi, i) {
    return p.map(function (pj, j) { return (i === j ? pi : 0) - pi * pj; });
  });
}

/* Loss -log softmax(z)_y for one sample with true class y (chapter 4). */
export function ceLoss(z, y) {
  return -logSoftmax(z)[y];
}

/* dL/dz = softmax(z) - onehot(y) (chapter 4). */
export function ceGrad(z, y) {
  return softmax(z).map(function (pi, i) { return i === y ? pi - 1 : pi; });
}

/*
 * Weighted cross-entropy of a batch, PyTorch's reduction="mean" (chapter 5):
 *   L = sum_n w[y_n] (-log softmax(z_n)[y_n]) / sum_n w[y_n],
 *   dL/dz_n = w[y_n] (softmax(z_n) - onehot(y_n)) / sum_n w[y_n].
 * Returns {loss, normalizer, perSample (weighted per-sample losses before dividing),
 *          grad (rows dL/dz_n), gradNorm (Euclidean norm of each row)}.
 * When every target weight is 0 the loss and gradient are NaN, as in PyTorch.
 */
export function weightedCrossEntropy(logits, targets, weight) {
  var normalizer = 0;
  var total = 0;
  var perSample = [];
  for (var n = 0; n < logits.length; n++) {
    var wn = weight[targets[n]];
    var l = wn * ceLoss(logits[n], targets[n]);
    perSample.push(l);
    total += l;
    normalizer += wn;
  }
  var grad = logits.map(function (z, n) {
    var scale = weight[targets[n]] / normalizer;
    return ceGrad(z, targets[n]).map(function (g) { return scale * g; });
  });
  var gradNorm = grad.map(function (row) {
    return Math.sqrt(sum(row.map(function (g) { return g * g; })));
  });
  return {
    loss: total / normalizer,
    normalizer: normalizer,
    perSample: perSample,
    grad: grad,
    gradNorm: gradNorm
  };
}
