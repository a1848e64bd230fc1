/*
 * Chapter 3: the softmax Jacobian J = diag(p) - p p^T of p = softmax(z), as a heatmap.
 * Python side: xent/explorers/jacobian.py (the same results, computed with xent).
 */
export default {
  title: "Jacobian explorer: diag(p) \u2212 p p\u1d40",
  state: ["logits", "ranges"],
  controls: (s, h) => s.logits.map((_, i) => ({
    key: "logits", index: i, label: "logit z" + h.sub(i),
    min: s.ranges.z[0], max: s.ranges.z[1], step: s.ranges.z[2],
  })),
  compute: (s, math) => {
    const p = math.softmax(s.logits);
    return { p, J: math.softmaxJacobian(p) };
  },
  view: (r, s, h) => [
    h.heading("p = softmax(z)"),
    h.bars(r.p.map((v, i) => ({ name: "p" + i, label: "p" + h.sub(i), value: v }))),
    h.heading("J = diag(p) \u2212 p p\u1d40 (warm positive, cool negative)"),
    h.heatmap(r.J, {
      name: "J", scale: 0.25, corner: "\u2202p\u2c7c/\u2202z\u2096",
      rowLabels: r.p.map((_, i) => "p" + h.sub(i)), colLabels: r.p.map((_, j) => "z" + h.sub(j)),
    }),
  ],
  announce: (r, s, h) =>
    "Jacobian diagonal: " + r.J.map((row, i) => `J${i}${i} ${h.fmt(row[i])}`).join(", "),
};
