/*
 * Chapter 1: H(p), H(p, q), H(q, p) and KL(p || q) for a fixed p and q = slider weights / sum.
 * Python side: xent/explorers/entropy.py (the same results, computed with xent).
 */
export default {
  title: "Entropy explorer: cross-entropy and KL of p against your q",
  state: ["p", "q", "unit", "ranges"],
  controls: (s, h) => [
    ...s.q.map((_, i) => ({
      key: "q", index: i, label: "weight of q" + h.sub(i),
      min: s.ranges.q[0], max: s.ranges.q[1], step: s.ranges.q[2],
    })),
    { key: "unit", label: "units", options: [["nats", "nats (log base e)"], ["bits", "bits (log base 2)"]] },
  ],
  compute: (s, math) => {
    const q = math.normalize(s.q);
    const c = s.unit === "bits" ? Math.LN2 : 1; /* bits = nats / ln 2 */
    return {
      p: s.p,
      q,
      H_p: math.entropy(s.p) / c,
      H_pq: math.crossEntropy(s.p, q) / c,
      H_qp: math.crossEntropy(q, s.p) / c,
      KL_pq: math.klDivergence(s.p, q) / c,
    };
  },
  view: (r, s, h) => [
    h.heading("p (fixed, grey) against q = your weights renormalised (blue)"),
    h.bars(r.p.flatMap((pi, i) => [
      { name: "p" + i, label: "p" + h.sub(i), value: pi, tone: "alt" },
      { name: "q" + i, label: "q" + h.sub(i), value: r.q[i] },
    ])),
    h.readout([
      ["H(p)", "H_p", r.H_p],
      ["H(p, q)", "H_pq", r.H_pq],
      ["H(q, p)", "H_qp", r.H_qp],
      ["KL(p \u2016 q) = H(p, q) \u2212 H(p)", "KL_pq", r.KL_pq],
    ]),
  ],
  announce: (r, s, h) =>
    `in ${s.unit}: H(p) ${h.fmt(r.H_p)}, H(p, q) ${h.fmt(r.H_pq)}, H(q, p) ${h.fmt(r.H_qp)}, ` +
    `KL(p, q) ${h.fmt(r.KL_pq)}`,
};
