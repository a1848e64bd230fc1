/*
 * Chapter 2: p = softmax(z / T) as bars, for logits z and a temperature T set by sliders.
 * Python side: xent/explorers/softmax.py (the same results, computed with xent).
 */
const pRows = (p, h) => p.map((v, i) => ({ name: "p" + i, label: "p" + h.sub(i), value: v }));

export default {
  title: "Softmax explorer: logits and temperature",
  state: ["logits", "temperature", "ranges"],
  controls: (s, h) => [
    ...s.logits.map((_, i) => ({
      key: "logits", index: i, label: "logit z" + h.sub(i),
      min: s.ranges.z[0], max: s.ranges.z[1], step: s.ranges.z[2],
    })),
    { key: "temperature", label: "temperature T", min: s.ranges.T[0], max: s.ranges.T[1], step: s.ranges.T[2] },
  ],
  compute: (s, math) => {
    const p = math.softmax(s.logits, s.temperature);
    return { p, sum_p: math.sum(p) };
  },
  view: (r, s, h) => [
    h.heading("softmax(z / T)"),
    h.bars(pRows(r.p, h)),
    h.readout([["sum of p", "sum_p", r.sum_p]]),
  ],
  announce: (r, s, h) => "softmax: " + r.p.map((v, i) => `p${i} ${h.fmt(v)}`).join(", "),
};
