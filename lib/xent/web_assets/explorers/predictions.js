/*
 * Chapter 6: the trained model's predictions on a sample of the official Fashion-MNIST test
 * images (data/fashion_mnist_predictions.json and .png, written by
 * tools/make_predictions_sample.py). Browse by true and predicted class, show only mistakes,
 * sort by confidence; every image with its ten probability bars; each cell of the confusion
 * matrix is a button that filters the images to that (true, predicted) pair.
 * Python side: xent/explorers/predictions.py (the same results, computed with xent), which also
 * hands the data and the image sprite to the widget; on the website this file fetches the
 * shipped data itself, once, next to the engine.
 *
 * results: {count, accuracy, test_accuracy, confusion (K x K counts), matches, shown (sample
 * positions, at most SHOW), shown_label, shown_pred, shown_probs (rows of K), shown_test_index}.
 */
const SHOW = 24;
const DATA = new Map(); /* source file -> {classes, logits, labels, index, ...} (website only) */

/* The sample positions that pass the filters, in the chosen order (ties: sample order). */
export function select(labels, pred, conf, s) {
  const keep = [];
  for (let n = 0; n < labels.length; n++) {
    if (s.true_class >= 0 && labels[n] !== s.true_class) continue;
    if (s.predicted_class >= 0 && pred[n] !== s.predicted_class) continue;
    if (s.show === "mistakes" && pred[n] === labels[n]) continue;
    if (s.show === "right" && pred[n] !== labels[n]) continue;
    keep.push(n);
  }
  if (s.sort === "confident") keep.sort((a, b) => conf[b] - conf[a] || a - b);
  else if (s.sort === "unsure") keep.sort((a, b) => conf[a] - conf[b] || a - b);
  return keep;
}

/* Everything the view shows, from the logits (the same as xent/explorers/predictions.py). */
export function summarize(data, s, math) {
  const K = data.classes.length;
  const probs = data.logits.map((z) => math.softmax(z));
  const pred = probs.map((p) => p.indexOf(math.max(p)));
  const conf = probs.map((p, n) => p[pred[n]]);
  const confusion = Array.from({ length: K }, () => Array.from({ length: K }, () => 0));
  let right = 0;
  data.labels.forEach((y, n) => {
    confusion[y][pred[n]] += 1;
    if (pred[n] === y) right += 1;
  });
  const keep = select(data.labels, pred, conf, s);
  const shown = keep.slice(0, SHOW);
  return {
    count: data.labels.length,
    accuracy: right / data.labels.length,
    test_accuracy: data.test_accuracy,
    confusion,
    matches: keep.length,
    shown,
    shown_label: shown.map((n) => data.labels[n]),
    shown_pred: shown.map((n) => pred[n]),
    shown_probs: shown.map((n) => probs[n]),
    shown_test_index: shown.map((n) => data.index[n]),
  };
}

const classOptions = (names) => [[-1, "any"], ...names.map((c, k) => [k, `${k}: ${c}`])];

const namesOf = (s) => s.classes;

function pick(root, values) {
  const model = root.xent.model;
  for (const [k, v] of Object.entries(values)) model.set(k, v);
  model.save_changes();
}

function confusionTable(r, s, h, names) {
  const { el } = h;
  const K = names.length;
  const max = Math.max(1, ...r.confusion.flat());
  const head = el("tr", {}, [el("th", { scope: "col" }, ["true \u2193 / predicted \u2192"])]);
  for (let j = 0; j < K; j++) head.append(el("th", { scope: "col", title: names[j] }, [String(j)]));
  const body = el("tbody");
  r.confusion.forEach((row, i) => {
    const tr = el("tr", {}, [el("th", { scope: "row" }, [`${i}: ${names[i]}`])]);
    row.forEach((count, j) => {
      const on = s.true_class === i && s.predicted_class === j;
      const button = el("button", {
        type: "button", class: "pred-cell" + (i === j ? " pred-diag" : ""),
        "data-cell": `${i}-${j}`, "aria-pressed": on ? "true" : "false",
        "aria-label": `${count} images of ${names[i]} predicted ${names[j]}`,
        style: `--pred-a:${(count / max).toFixed(3)}`,
      }, [h.el("span", { "data-count": "confusion" + i + j }, [String(count)])]);
      button.addEventListener("click", (ev) => {
        const root = ev.currentTarget.closest(".xent-explorer");
        const again = on; /* a second click on the chosen cell clears the filter */
        pick(root, again ? { true_class: -1, predicted_class: -1 } : { true_class: i, predicted_class: j });
        const next = root.querySelector(`[data-cell="${i}-${j}"]`);
        if (next) next.focus(); /* the view was redrawn: keep the keyboard where it was */
      });
      tr.append(el("td", {}, [button]));
    });
    body.append(tr);
  });
  return el("table", { class: "pred-confusion" }, [
    el("caption", {}, ["Confusion matrix of the sample: press a cell to show those images"]),
    el("thead", {}, [head]), body,
  ]);
}

function card(r, k, s, h, names) {
  const { el } = h;
  const n = r.shown[k];
  const y = r.shown_label[k];
  const yhat = r.shown_pred[k];
  const p = r.shown_probs[k];
  const cols = s.columns || 20;
  const tile = el("div", {
    class: "pred-image", role: "img",
    "aria-label": `Test image ${r.shown_test_index[k]}: ${names[y]}, predicted ${names[yhat]}`,
    style: `background-position: ${-56 * (n % cols)}px ${-56 * Math.floor(n / cols)}px;` +
      `background-size: ${56 * cols}px auto;`,
  });
  const bars = el("div", { class: "pred-bars", "aria-hidden": "true" });
  p.forEach((v, c) => {
    bars.append(el("div", {
      class: "pred-bar" + (c === y ? " pred-true" : "") + (c === yhat ? " pred-top" : ""),
      title: `${names[c]}: ${h.fmt(v)}`,
    }, [el("span", { style: `height:${(100 * v).toFixed(1)}%` })]));
  });
  const right = y === yhat;
  return el("figure", { class: "pred-card" + (right ? "" : " pred-wrong") }, [
    tile, bars,
    el("figcaption", {}, [
      el("span", {}, [`#${r.shown_test_index[k]} true: ${names[y]}`]),
      el("span", {}, [
        (right ? "\u2713 " : "\u2717 ") + `predicted: ${names[yhat]} `,
        h.num("shown_probs" + k + yhat, p[yhat]),
      ]),
    ]),
  ]);
}

export default {
  title: "Predictions explorer: Fashion-MNIST test images and the model's probabilities",
  state: ["true_class", "predicted_class", "show", "sort", "source", "classes", "columns"],
  controls: (s) => {
    const names = namesOf(s);
    return [
      { key: "true_class", label: "true class", options: classOptions(names) },
      { key: "predicted_class", label: "predicted class", options: classOptions(names) },
      { key: "show", label: "show", options: [["all", "all images"], ["mistakes", "mistakes only"],
        ["right", "right answers only"]] },
      { key: "sort", label: "order", options: [["confident", "most confident first"],
        ["unsure", "least confident first"], ["sample", "test-set order"]] },
    ];
  },
  compute: (s, math) => {
    const data = DATA.get(s.source);
    return data ? summarize(data, s, math) : {};
  },
  view: (r, s, h) => {
    const names = namesOf(s);
    const { el } = h;
    const count = (label, name, n) => [el("dt", {}, [label]),
      el("dd", {}, [el("span", { "data-count": name }, [String(n)])])];
    return [
      el("dl", { class: "xent-readout" }, [
        ...count("images in the sample", "count", r.count),
        ...count("matching the filters", "matches", r.matches),
      ]),
      h.readout([
        ["accuracy on the sample", "accuracy", r.accuracy],
        ["accuracy on all 10 000 test images", "test_accuracy", r.test_accuracy],
      ]),
      confusionTable(r, s, h, names),
      el("p", { class: "xent-heading" }, [
        r.matches > r.shown.length
          ? `The first ${r.shown.length} of ${r.matches} matching images`
          : `${r.matches} matching image${r.matches === 1 ? "" : "s"}`,
        " (bars: the ten class probabilities; outlined: the true class)",
      ]),
      el("div", { class: "pred-grid" }, r.shown.map((_, k) => card(r, k, s, h, names))),
    ];
  },
  announce: (r) => `${r.matches} images match; showing ${r.shown.length}`,

  setup(root, model) {
    const sprite = model.get("sprite");
    const source = model.get("source");
    const here = (file) => new URL(`../data/${file}`, import.meta.url).href;
    if (sprite) {
      root.style.setProperty("--pred-sprite", `url("${sprite}")`);
      return null;
    }
    /* the website: fetch the shipped sample once, then recompute (mounted when it is in) */
    return fetch(here(source))
      .then((response) => {
        if (!response.ok) throw new Error(`${source}: HTTP ${response.status}`);
        return response.json();
      })
      .then((data) => {
        DATA.set(source, data);
        root.style.setProperty("--pred-sprite", `url("${here(data.sprite.file)}")`);
        model.save_changes();
      });
  },
};
