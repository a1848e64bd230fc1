/*
 * Chapter 5: class weights on a fixed batch; the loss sum_i w[y_i] l_i / Omega, Omega = sum_i w[y_i].
 * Python side: xent/explorers/weighted_ce.py (the same results, computed with xent).
 */
export default {
  title: "Weighted cross-entropy explorer: class weights on a small batch",
  state: ["weight", "logits", "targets", "ranges"],
  controls: (s) => s.weight.map((_, k) => ({
    key: "weight", index: k, label: "weight of class " + k,
    min: s.ranges.w[0], max: s.ranges.w[1], step: s.ranges.w[2],
  })),
  compute: (s, math) => {
    const r = math.weightedCrossEntropy(s.logits, s.targets, s.weight);
    const plain = math.weightedCrossEntropy(s.logits, s.targets, s.weight.map(() => 1));
    return {
      loss: r.loss, normalizer: r.normalizer, loss_unweighted: plain.loss,
      grad_norm: r.gradNorm, grad_norm_unweighted: plain.gradNorm,
    };
  },
  view: (r, s, h) => {
    /* one bar scale for weighted and unweighted runs, so the bars compare across settings */
    const finite = [...r.grad_norm, ...r.grad_norm_unweighted].filter(Number.isFinite);
    const scale = Math.max(0, ...finite);
    return [
      h.readout([
        ["weighted loss \u03a3 w_y\u1d62 \u2113\u1d62 / \u03a9", "loss", r.loss],
        ["normaliser \u03a9 = \u03a3 w_y\u1d62", "normalizer", r.normalizer],
        ["unweighted mean loss", "loss_unweighted", r.loss_unweighted],
      ]),
      h.heading("per-sample gradient size \u2016\u2202L/\u2202z\u1d62\u2016 (sample i: true class)"),
      h.bars(r.grad_norm.map((v, n) => ({
        name: "grad_norm" + n, label: `#${n}: class ${s.targets[n]}`, value: v,
      })), { scale: scale > 0 ? scale : 1, tone: "grad" }),
    ];
  },
  announce: (r, s, h) =>
    `weighted loss ${h.fmt(r.loss)}, normaliser ${h.fmt(r.normalizer)}, ` +
    `unweighted ${h.fmt(r.loss_unweighted)}`,
};
