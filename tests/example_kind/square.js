/*
 * The worked example of a new explorer kind (see lib/xent/web_assets/README.md): x and x squared.
 * The tests copy it next to the engine as explorers/square.js, exactly as a new kind is added.
 */
export default {
  title: "Square explorer",
  state: ["x"],
  controls: () => [{ key: "x", label: "x", min: -3, max: 3, step: 0.5 }],
  compute: (s) => ({ square: s.x * s.x }),
  view: (r, s, h) => [h.readout([["x squared", "square", r.square]])],
  announce: (r, s, h) => `x squared ${h.fmt(r.square)}`,
};
