/*
 * Chapter 9: one softmax computed in float16, bfloat16 or float32 arithmetic, emulated exactly.
 * Python side: xent/explorers/precision.py, whose numbers come from xent.precision.emulate_softmax;
 * this file does the same steps in JavaScript doubles (tests/test_precision_explorer.py checks
 * both against each other, and roundTo against NumPy's float16 and the bfloat16 bit trick).
 *
 * Every intermediate result is computed in float64 and rounded once to the format: for +, -, x
 * and / that is exactly the format's own arithmetic (float64 has more than twice the bits).
 */

/* [fraction bits m, exponent bits k] of each format */
export const FORMATS = { float16: [10, 5], bfloat16: [7, 8], float32: [23, 8] };

/* Round half to even: the integer nearest to v, ties to the even one. */
function rintEven(v) {
  const f = Math.floor(v);
  const d = v - f; /* exact for |v| < 2^52 */
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/*
 * x rounded to the format [m, k]: to the nearest value, ties to even, beyond the largest finite
 * value to +-infinity. For |x| in [2^e, 2^(e+1)) the grid spacing is 2^(max(e, emin) - m);
 * scaling by a power of two is exact, so rintEven does the only rounding.
 */
export function roundTo(x, [m, k]) {
  if (!Number.isFinite(x) || x === 0) return x;
  const emax = 2 ** (k - 1) - 1;
  const emin = 1 - emax;
  const ax = Math.abs(x);
  let e = Math.floor(Math.log2(ax));
  if (2 ** e > ax) e -= 1; /* log2 may be off by one next to a power of two */
  else if (2 ** (e + 1) <= ax) e += 1;
  const q = Math.max(e, emin) - m;
  let r = rintEven(x * 2 ** -q) * 2 ** q;
  if (Math.abs(r) > (2 - 2 ** -m) * 2 ** emax) r = x > 0 ? Infinity : -Infinity;
  return r === 0 && x < 0 ? -0 : r;
}

/* exp(z) = inf from z = overflow; exp(z) = 0 from z = zero (correctly rounded exp). */
export function expThresholds([m, k]) {
  const emax = 2 ** (k - 1) - 1;
  const emin = 1 - emax;
  return {
    overflow: Math.log(2 - 2 ** -(m + 1)) + emax * Math.log(2),
    zero: (emin - m - 1) * Math.log(2),
  };
}

/* The four computations of chapter 9, every step rounded to the format `fmt`. */
export function emulateSoftmax(z, fmt) {
  const R = (v) => roundTo(v, fmt);
  const sum = (a) => a.reduce((t, v) => R(t + v), 0); /* left to right, rounded each time */
  const zr = z.map(R);
  const e = zr.map((v) => R(Math.exp(v)));
  const sNaive = sum(e);
  const m = Math.max(...zr);
  const d = zr.map((v) => R(v - m));
  const es = d.map((v) => R(Math.exp(v)));
  const s = sum(es);
  const stable = es.map((v) => R(v / s));
  const logS = R(Math.log(s));
  return {
    z: zr,
    naive: e.map((v) => R(v / sNaive)),
    stable,
    log_of_softmax: stable.map((v) => R(Math.log(v))),
    log_softmax: d.map((v) => R(v - logS)),
    overflow: e.map((v) => (v === Infinity ? 1 : 0)),
    underflow: es.map((v) => (v === 0 ? 1 : 0)),
  };
}

const total = (a) => a.reduce((t, v) => t + v, 0);

export default {
  title: "Precision explorer: one softmax in float16, bfloat16 and float32",
  state: ["logits", "dtype", "ranges"],
  controls: (s, h) => [
    { key: "dtype", label: "number format", options: Object.keys(FORMATS).map((f) => [f, f]) },
    ...s.logits.map((_, i) => ({
      key: "logits", index: i, label: "logit z" + h.sub(i),
      min: s.ranges.z[0], max: s.ranges.z[1], step: s.ranges.z[2],
    })),
  ],
  compute: (s) => {
    const fmt = FORMATS[s.dtype];
    const r = emulateSoftmax(s.logits, fmt);
    const t = expThresholds(fmt);
    return {
      ...r,
      exp_overflows_from: t.overflow,
      exp_zero_from: t.zero,
      sum_naive: total(r.naive),
      sum_stable: total(r.stable),
    };
  },
  view: (r, s, h) => {
    const notes = [];
    r.z.forEach((_, c) => {
      const name = "z" + h.sub(c);
      if (r.overflow[c]) {
        notes.push(`${name}: exp(z) overflows to \u221e, so the naive p is ${h.fmt(r.naive[c])}`);
      }
      if (r.underflow[c]) {
        notes.push(`${name}: exp(z \u2212 max) underflows to 0, so p = 0 and ` +
          "log(softmax) = \u2212\u221e");
      }
    });
    /* one small table per group of columns, so that it fits beside the controls */
    const table = (cols) => {
      const head = h.el("tr", {}, [
        h.el("th", { scope: "col" }, ["class"]),
        ...cols.map(([, label]) => h.el("th", { scope: "col" }, [label])),
      ]);
      const body = h.el("tbody");
      r.z.forEach((_, c) => {
        const cells = cols.map(([key]) => {
          const v = r[key][c];
          const bad = !Number.isFinite(v) || (key !== "z" && r.underflow[c] && v === 0);
          return h.el("td", bad ? { class: "xent-warm", style: "--xent-a:0.8" } : {},
            [h.num(key + c, v)]);
        });
        body.append(h.el("tr", {}, [h.el("th", { scope: "row" }, ["z" + h.sub(c)]), ...cells]));
      });
      return h.el("div", { style: "overflow-x:auto;max-width:100%" }, [
        h.el("table", { class: "xent-heatmap" }, [h.el("thead", {}, [head]), body]),
      ]);
    };
    return [
      h.heading(`softmax in ${s.dtype}, every intermediate result rounded to ${s.dtype}`),
      table([["z", "z stored"], ["naive", "naive p"], ["stable", "stable p"]]),
      table([["log_of_softmax", "log(softmax)"], ["log_softmax", "log_softmax"]]),
      notes.length
        ? h.el("ul", {}, notes.map((n) => h.el("li", {}, [n])))
        : h.el("p", {}, ["No exp overflowed and no probability underflowed."]),
      h.readout([
        [`exp(z) = \u221e in ${s.dtype} from z =`, "exp_overflows_from", r.exp_overflows_from],
        [`exp(z) = 0 in ${s.dtype} from z =`, "exp_zero_from", r.exp_zero_from],
        ["sum of naive p", "sum_naive", r.sum_naive],
        ["sum of stable p", "sum_stable", r.sum_stable],
      ]),
    ];
  },
  announce: (r, s, h) =>
    `${s.dtype}: naive p ` + r.naive.map((v) => h.fmt(v)).join(", ") +
    "; stable p " + r.stable.map((v) => h.fmt(v)).join(", ") +
    "; log_softmax " + r.log_softmax.map((v) => h.fmt(v)).join(", "),
};
