/*
 * Chapter 1: H(p), H(p, q), H(q, p) and KL(p || q) for a fixed p and q = slider weights / sum.
 * Python side: xent/explorers/entropy.py (the same results, computed with xent).
 * The state keeps the letters of xent.info (p, q); what the reader sees uses chapter 1's
 * letters, the source a (p here) and the distribution b (q here): in the book p is always the
 * model (see the Notation page).
 */
export default {
  title: "Entropy explorer: cross-entropy and KL of a against your b",
  state: ["p", "q", "unit", "ranges"],
  controls: (s, h) => [
    ...s.q.map((_, i) => ({
      key: "q", index: i, label: "weight of b" + h.sub(i),
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
    h.heading("a (fixed, grey) against b = your weights renormalised (blue)"),
    h.bars(r.p.flatMap((pi, i) => [
      { name: "p" + i, label: "a" + h.sub(i), value: pi, tone: "alt" },
      { name: "q" + i, label: "b" + h.sub(i), value: r.q[i] },
    ])),
    h.readout([
      ["H(a)", "H_p", r.H_p],
      ["H(a, b)", "H_pq", r.H_pq],
      ["H(b, a)", "H_qp", r.H_qp],
      ["D_KL(a \u2016 b) = H(a, b) \u2212 H(a)", "KL_pq", r.KL_pq],
    ]),
  ],
  announce: (r, s, h) =>
    `in ${s.unit}: H(a) ${h.fmt(r.H_p)}, H(a, b) ${h.fmt(r.H_pq)}, H(b, a) ${h.fmt(r.H_qp)}, ` +
    `D_KL(a, b) ${h.fmt(r.KL_pq)}`,
};
