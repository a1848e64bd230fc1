/*
 * Chapter 7: a few labels' logits -> independent sigmoids beside the softmax of the same logits,
 * with each label's binary cross-entropy and its gradient sigma(x) - t.
 * Python side: xent/explorers/multilabel.py (the same results, computed with xent).
 */

/* sigma(x) without overflow: 1/(1+e) or e/(1+e) with e = exp(-|x|) (chapter 7). */
const sigmoid = (x) => {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
};
/* sp(x) = log(1 + e^x) = max(x, 0) + log1p(exp(-|x|)) */
const softplus = (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

export default {
  title: "Multi-label explorer: independent sigmoids beside one softmax",
  state: ["logits", "targets", "ranges"],
  controls: (s, h) => [
    ...s.logits.map((_, c) => ({
      key: "logits", index: c, label: "logit x" + h.sub(c),
      min: s.ranges.x[0], max: s.ranges.x[1], step: s.ranges.x[2],
    })),
    ...s.targets.map((_, c) => ({
      key: "targets", index: c, label: "label " + c + " present (t" + h.sub(c) + ")",
      options: [[0, "no (t = 0)"], [1, "yes (t = 1)"]],
    })),
  ],
  compute: (s, math) => {
    const sig = s.logits.map(sigmoid);
    const loss = s.logits.map((x, c) => s.targets[c] * softplus(-x) + (1 - s.targets[c]) * softplus(x));
    const grad = s.logits.map((x, c) => (1 - s.targets[c]) * sigmoid(x) - s.targets[c] * sigmoid(-x));
    return {
      sigmoid: sig,
      softmax: math.softmax(s.logits, 1),
      loss,
      grad,
      loss_mean: math.sum(loss) / loss.length,
      sum_sigmoid: math.sum(sig),
    };
  },
  view: (r, s, h) => {
    /* label of label c, e.g. "σ(x₀) ✓" (✓: the label is present) */
    const rows = (key, v, label) => v.map((value, c) => ({
      name: key + c, label: label(h.sub(c)) + (s.targets[c] ? " \u2713" : ""), value,
    }));
    const gmax = Math.max(1e-12, ...r.grad.map(Math.abs));
    const lmax = Math.max(1e-12, ...r.loss);
    return [
      h.heading("independent sigmoids: any number of labels (\u2713 = present)"),
      h.bars(rows("sigmoid", r.sigmoid, (i) => "\u03c3(x" + i + ")")),
      h.heading("softmax of the same logits: one label, sums to 1"),
      h.bars(rows("softmax", r.softmax, (i) => "p" + i), { tone: "alt" }),
      h.heading("per-label loss t sp(\u2212x) + (1\u2212t) sp(x)"),
      h.bars(rows("loss", r.loss, (i) => "\u2113" + i), { scale: lmax }),
      h.heading("per-label gradient \u2202\u2113/\u2202x = \u03c3(x) \u2212 t"),
      h.bars(rows("grad", r.grad, (i) => "g" + i), { signed: true, scale: gmax, tone: "grad" }),
      h.readout([
        ["sum of the sigmoids", "sum_sigmoid", r.sum_sigmoid],
        ["mean loss over the labels", "loss_mean", r.loss_mean],
      ]),
    ];
  },
  announce: (r, s, h) =>
    "sigmoids " + r.sigmoid.map((v) => h.fmt(v)).join(", ") +
    "; softmax " + r.softmax.map((v) => h.fmt(v)).join(", ") +
    "; mean loss " + h.fmt(r.loss_mean),
};
