/*
 * Chapter 4: the loss -log p_y and its gradient p - e_y (e_y the one-hot row of y) for one sample.
 * Python side: xent/explorers/ce_gradient.py (the same results, computed with xent).
 */
export default {
  title: "Cross-entropy gradient explorer: p \u2212 e_y",
  state: ["logits", "target", "ranges"],
  controls: (s, h) => [
    ...s.logits.map((_, i) => ({
      key: "logits", index: i, label: "logit z" + h.sub(i),
      min: s.ranges.z[0], max: s.ranges.z[1], step: s.ranges.z[2],
    })),
    { key: "target", label: "true class y", options: s.logits.map((_, i) => [i, "class " + i]) },
  ],
  compute: (s, math) => {
    const p = math.softmax(s.logits);
    return {
      loss: math.ceLoss(s.logits, s.target), p, p_y: p[s.target],
      grad: math.ceGrad(s.logits, s.target),
    };
  },
  view: (r, s, h) => [
    h.readout([["loss \u2212log p_y", "loss", r.loss], ["p_y", "p_y", r.p_y]]),
    h.heading("p = softmax(z)"),
    h.bars(r.p.map((v, i) => ({ name: "p" + i, label: "p" + h.sub(i), value: v }))),
    h.heading("gradient \u2202L/\u2202z = p \u2212 e_y (e_y: the one-hot row of y)"),
    h.bars(r.grad.map((v, i) => ({ name: "grad" + i, label: "g" + h.sub(i), value: v })),
      { signed: true, tone: "grad" }),
  ],
  announce: (r, s, h) =>
    `loss ${h.fmt(r.loss)}; gradient ` + r.grad.map((v, i) => `g${i} ${h.fmt(v)}`).join(", "),
};
