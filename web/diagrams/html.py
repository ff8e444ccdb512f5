"""Graphviz HTML-like labels, built safely (every text escaped), and the shared look.

A cell given an ``id`` gets ``HREF`` too, because Graphviz writes a cell's id
into the SVG only for cells that are links (as ``<g id="a_ID">``); the page
cancels the click. Those ids are what the browser compares between two
renders to highlight what changed.
"""
from __future__ import annotations

from html import escape

FONT = "Noto Sans CJK KR"
MONO = "Noto Sans Mono CJK KR"

# Colours that read on a projector: separate = green, shared = grey, warn = red.
OWN, SHARED, HEAD, WARN, NOTE, PALE = "#cdeccd", "#eeeeee", "#dbe7f7", "#f8c9c4", "#fff3c4", "#f7f7f7"


def cell(text="", *, id=None, bg=None, port=None, colspan=None, align=None, bold=False,
         mono=False, size=None, color=None, width=None, height=None, title=None) -> str:
    attrs = []
    if id:
        attrs += [f'ID="{escape(id)}"', f'HREF="#{escape(id)}"', f'TOOLTIP="{escape(str(title or text or id))}"']
    for name, value in (("BGCOLOR", bg), ("PORT", port), ("COLSPAN", colspan), ("ALIGN", align),
                        ("WIDTH", width), ("HEIGHT", height)):
        if value is not None:
            attrs.append(f'{name}="{value}"')
    if width is not None or height is not None:
        attrs.append('FIXEDSIZE="TRUE"')
    body = "<BR/>".join(escape(str(line)) for line in str(text).split("\n")) if text != "" else ""
    font = []
    if mono:
        font.append(f'FACE="{MONO}"')
    if size:
        font.append(f'POINT-SIZE="{size}"')
    if color:
        font.append(f'COLOR="{color}"')
    if font:
        body = f"<FONT {' '.join(font)}>{body}</FONT>"
    if bold:
        body = f"<B>{body}</B>"
    return f"<TD {' '.join(attrs)}>{body}</TD>"


def row(*cells: str) -> str:
    return "<TR>" + "".join(cells) + "</TR>"


def table(rows, *, border=0, cellborder=1, cellspacing=0, cellpadding=5, bg=None) -> str:
    extra = f' BGCOLOR="{bg}"' if bg else ""
    return (f'<<TABLE BORDER="{border}" CELLBORDER="{cellborder}" CELLSPACING="{cellspacing}" '
            f'CELLPADDING="{cellpadding}"{extra}>' + "".join(rows) + "</TABLE>>")


def bar(fraction: float | None, *, id=None, width=150, fill="#5b9bd5", warn_at=0.9) -> str:
    """A gauge as a one-row table: FRACTION of WIDTH filled (None: no limit, empty)."""
    if fraction is None:
        used, colour, tip = 0, PALE, "-"
    else:
        f = max(0.0, min(fraction, 1.0))
        used, colour, tip = max(int(width * f), 1), "#d9534f" if f >= warn_at else fill, f"{int(f * 100)}%"
    cells = [(colour, used), (PALE, width - used)]
    inner = ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>'
             + "".join(f'<TD BGCOLOR="{c}" WIDTH="{w}" HEIGHT="10" FIXEDSIZE="TRUE"></TD>' for c, w in cells if w > 0)
             + "</TR></TABLE>")
    attrs = f'ID="{escape(id)}" HREF="#{escape(id)}" TOOLTIP="{tip}" ' if id else ""
    return f'<TD {attrs}CELLPADDING="1">{inner}</TD>'


def new_graph(name: str, *, rankdir="TB", lang="ko"):
    import graphviz
    g = graphviz.Digraph(name, engine="dot")
    g.attr(rankdir=rankdir, fontname=FONT, fontsize="12", bgcolor="transparent",
           nodesep="0.3", ranksep="0.45", pad="0.2")
    g.attr("node", fontname=FONT, fontsize="11", shape="plain")
    g.attr("edge", fontname=FONT, fontsize="10", color="#777777")
    return g


def human(n: int | None) -> str:
    """Bytes as people read them (binary units, like `onggi stats`)."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


SIM = "#f3d9a4"         # the simulated band's colour: a warning, not an error


def mark_simulated(g, lang: str, *, bottom_up: bool = False) -> None:
    """A band across the top of the view (id ``sim-mark``) saying it is simulated.

    It gets a rank of its own at the top: "source" in a top-down graph, "sink"
    in a bottom-up one (rankdir=BT draws the last rank at the top)."""
    from .text import t
    label = table([row(cell(f"⚠ {t('simulated', lang)}", bold=True, bg=SIM, size=13, id="sim-mark-text"))],
                  cellborder=0, cellpadding=6, bg=SIM)
    with g.subgraph(name="sim_band") as band:
        band.attr(rank="sink" if bottom_up else "source")
        band.node("sim-mark", id="sim-mark", label=label, **{"class": "simulated"})
