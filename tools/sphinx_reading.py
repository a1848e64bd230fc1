"""Sphinx extension: the book's pages light, typeset at build time, honest, and printable.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``. It

- **typesets all math at build time** with sphinxcontrib-katex (``katex_prerender``): the
  prerenderer runs the ``katex.min.js`` that ``tools/fetch_assets.py`` fetched from npm (the same
  KaTeX version as the served style sheet and fonts), with ``throwOnError``: a formula KaTeX cannot
  typeset is a build warning naming the page and the TeX (``-W`` makes it an error), never red
  text on the page. KaTeX writes MathML next to its HTML, so screen readers read the formulas;
- drops the pydata theme's ``fontawesome.js`` (1.5 MB of script that draws the same icons the
  theme's style sheet already draws with its icon font) from every page;
- takes the **repository URL from one setting**, the environment variable ``XENT_REPO_URL``
  (branch: ``XENT_REPO_BRANCH``, default ``main``). Unset, the site shows no repository or launch
  buttons at all; set, it shows the repository button and, on each chapter, Binder and Colab
  buttons (hosts from ``launch_buttons`` in ``_config.yml``), and the build checks that every
  chapter's hidden install cell installs from that same URL (``tools/launch_cell.py``);
- serves the favicon, and the small reading style sheet and print script of
  ``tools/site_assets/`` (print: solutions and hidden code expanded, long lines wrapped);
- gives the home page a ``<title>`` without the book title repeated after it, and every page a
  description and Open Graph tags (sphinxext-opengraph; ``og:url`` only with ``XENT_SITE_URL``).
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from docutils import nodes
from markupsafe import Markup
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "site_assets"
KATEX_JS = Path("_build") / "katex" / "katex.min.js"  # written by tools/fetch_assets.py
ICON_SCRIPT = re.compile(r'\s*<script\b[^>]*\bsrc="[^"]*/fontawesome\.js[^"]*"[^>]*>\s*</script>')
DESCRIPTION_TAG = re.compile(
    r'(<meta (?:name="description"|property="og:description") content=")[^"]*" />'
)
PLAIN_TEX = re.compile(r"[A-Za-z0-9 ,.;:=+\-()|']*")
COMPLEX = "\x00"
SENTENCE_END = re.compile(r"(?<=[^0-9][.!?])\s+(?=[A-Z])")  # not after "2." of "2. Softmax"
RELATIVE_OG_URL = re.compile(r'\s*<meta property="og:url" content="(?!https?://)[^"]*" />')
LAUNCH_KEYS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "thebe")


def _repo_url() -> str:
    sys.path.insert(0, str(HERE))
    try:
        from launch_cell import repo_url
    finally:
        sys.path.remove(str(HERE))
    return repo_url()


# --- math: KaTeX at build time -------------------------------------------------------------


def _start_katex_server(cls: Any, rundir: Path, timeout: float) -> tuple[Any, socket.socket]:
    """sphinxcontrib-katex's server start, without its race: it connects as soon as the socket
    file exists, which on a busy machine can be before Node listens on it (ConnectionRefused,
    a crashed build and an orphaned Node process). Retry until the deadline instead."""
    socket_path = rundir / "katex.sock"
    process = subprocess.Popen(
        cls.build_command(socket=socket_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=rundir,
    )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the KaTeX render server (Node) exited with {process.returncode}")
        if socket_path.is_socket():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(socket_path))
                return process, sock
            except (ConnectionRefusedError, FileNotFoundError):
                sock.close()
        if time.monotonic() > deadline:
            process.kill()
            raise cls.timeout_error(timeout)
        time.sleep(0.01)


def _setup_katex(app: Sphinx, config: Config) -> None:
    import sphinxcontrib.katex as katex

    js = Path(app.confdir) / KATEX_JS
    if not js.is_file():
        logger.warning(
            f"{js} not found: fetch KaTeX first (`make assets`, i.e. python tools/fetch_assets.py)",
            type="reading",
            subtype="katex",
        )
    config.katex_js_path = str(js)
    config.katex_prerender = True
    # Render errors must reach us (the default draws them in red and carries on); MathML for
    # assistive technology next to the HTML. The build machine may be busy: generous timeouts.
    katex.KATEX_DEFAULT_OPTIONS = {"throwOnError": True, "output": "htmlAndMathml"}
    katex.STARTUP_TIMEOUT = 60.0
    katex.RENDER_TIMEOUT = 60.0
    katex.KaTeXServer.start_server_process = classmethod(_start_katex_server)
    original = katex.render_latex

    def render_latex(latex: str, options: dict | None = None) -> str:
        try:
            return original(latex, options)
        except katex.KaTeXError as err:
            page = getattr(app.builder, "current_docname", "?")
            logger.warning(
                f"{page}: KaTeX cannot typeset {latex!r}: {err}", type="reading", subtype="katex"
            )
            return f'<code class="xent-tex-error">{Markup.escape(latex)}</code>'

    if not getattr(original, "_xent_wrapped", False):
        render_latex._xent_wrapped = True  # type: ignore[attr-defined]
        katex.render_latex = render_latex


# --- repository URL and launch buttons ------------------------------------------------------


def _setup_repository(app: Sphinx, config: Config) -> None:
    options = config.html_theme_options
    try:
        url = _repo_url()
    except ValueError as err:
        logger.warning(str(err), type="reading", subtype="repository")
        url = ""
    launch = dict(options.get("launch_buttons") or {})
    if not url:
        # No repository: no button may point anywhere. Launch links need one, and so do the
        # repository, issues and edit buttons.
        options["launch_buttons"] = {k: v for k, v in launch.items() if k not in LAUNCH_KEYS}
        for key in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
            options[key] = False
        options["repository_url"] = ""
        return
    options["repository_url"] = url
    options["repository_branch"] = os.environ.get("XENT_REPO_BRANCH", "main")
    options["path_to_docs"] = ""
    options["use_repository_button"] = True
    options["launch_buttons"] = launch


def _check_install_cells(app: Sphinx) -> None:
    url = _repo_url()
    if not url:
        return  # nothing to launch: the cells may carry any URL (tests/browser checks the text)
    sys.path.insert(0, str(HERE))
    try:
        import launch_cell
    finally:
        sys.path.remove(str(HERE))
    for path in launch_cell.chapters(Path(app.confdir)):
        for problem in launch_cell.problems(path, url):
            logger.warning(
                f"{problem}: Colab would not install xent (run tools/launch_cell.py --write)",
                type="reading",
                subtype="launch",
            )


# --- page assets and titles -----------------------------------------------------------------


def _without_icon_script(html: str) -> Markup:
    return Markup(ICON_SCRIPT.sub("", str(html)))


def _add_template_filter(app: Sphinx) -> None:
    templates = getattr(app.builder, "templates", None)
    environment = getattr(templates, "environment", None)
    if environment is not None:
        environment.filters["xent_without_icon_script"] = _without_icon_script


def _setup_assets(app: Sphinx, config: Config) -> None:
    config.templates_path = [*config.templates_path, str(ASSETS / "templates")]
    config.html_static_path = [*config.html_static_path, str(ASSETS / "static")]
    if not config.html_favicon:
        config.html_favicon = str(ASSETS / "favicon.svg")
    if "ogp_site_name" in config and not config.ogp_site_name:  # sphinxext-opengraph loaded
        config.ogp_site_name = config.html_title or config.project
        # XENT_SITE_URL (optional): where the site is published, for absolute og:url tags.
        if not config.ogp_site_url and os.environ.get("XENT_SITE_URL"):
            config.ogp_site_url = os.environ["XENT_SITE_URL"].rstrip("/") + "/"


def _paragraph_text(paragraph: nodes.paragraph) -> str:
    """A paragraph as plain text; a formula that is not plain text becomes a marker."""
    parts = []
    for node in paragraph.findall(lambda n: isinstance(n, (nodes.Text, nodes.math))):
        if isinstance(node, nodes.math):
            tex = node.astext().strip()
            parts.append(tex if PLAIN_TEX.fullmatch(tex) else COMPLEX)
        elif not isinstance(node.parent, nodes.math):
            parts.append(node.astext())
    return " ".join("".join(parts).split())


def _description(doctree: nodes.document, length: int = 200) -> str:
    """The page's first sentences, skipping any sentence whose math is not plain text (TeX in
    a description shows as backslashes in search results and link previews)."""
    sentences: list[str] = []
    for paragraph in doctree.findall(nodes.paragraph):
        if any(isinstance(a, (nodes.Admonition, nodes.table, nodes.list_item, nodes.footnote))
               for a in _ancestors(paragraph)):
            continue
        for sentence in SENTENCE_END.split(_paragraph_text(paragraph)):
            if sentence and COMPLEX not in sentence:
                sentences.append(sentence)
        text = " ".join(sentences)
        if len(text) >= length:
            return text[: length - 3].rsplit(" ", 1)[0] + "..."
    return " ".join(sentences)


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    tags = context.get("metatags")
    if not isinstance(tags, str):
        return
    # Without a site URL (ogp_site_url), sphinxext-opengraph writes a relative og:url, which
    # Open Graph does not allow: leave the tag out then.
    if not getattr(app.config, "ogp_site_url", ""):
        tags = RELATIVE_OG_URL.sub("", tags)
    if doctree is not None:
        text = _description(doctree, getattr(app.config, "ogp_description_length", 200))
        if text:
            value = html.escape(text, quote=True)
            tags = DESCRIPTION_TAG.sub(lambda m: f'{m.group(1)}{value}" />', tags)
    context["metatags"] = tags


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _setup_katex)
    app.connect("config-inited", _setup_repository)
    app.connect("config-inited", _setup_assets)
    app.connect("builder-inited", _add_template_filter)
    app.connect("builder-inited", _check_install_cells)
    app.connect("html-page-context", _page_context, priority=900)
    app.add_css_file("xent_reading.css")
    app.add_js_file("xent_reading.js", defer="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
