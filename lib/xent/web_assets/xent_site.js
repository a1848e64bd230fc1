/*
 * xent_site.js: the website's loader (one <script type="module"> per page, added by
 * tools/xent_assets.py). It mounts every <div class="xent-explorer" data-explorer="KIND"
 * data-config="{...}"> of the page, written by a chapter's stored output, as a kernel-free
 * explorer: explorers/KIND.js on a local model whose results come from the browser-side math.
 */
import { localModel, mount } from "./xent_engine.js";
import * as math from "./xent_math.js";

const KIND = /^[a-z][a-z0-9_]*$/;

export async function mountAll(root = document) {
  const divs = root.querySelectorAll(".xent-explorer[data-explorer]:not([data-mounted])");
  for (const div of divs) {
    const kind = div.dataset.explorer;
    if (!KIND.test(kind)) throw new Error(`xent explorer: bad kind ${kind}`);
    const spec = (await import(`./explorers/${kind}.js`)).default;
    const config = JSON.parse(div.dataset.config);
    const model = localModel(config, spec.state, (state) => spec.compute(state, math));
    mount(div, spec, model);
  }
}

mountAll();
