"""One self-contained HTML page (images embedded, no network) for one or more runs: the run table,
the search and retrain figures, the cells, and each run's configuration. The figures are also
written as PNG and SVG files beside it."""

from __future__ import annotations

import base64
import datetime
import html
from pathlib import Path

import numpy as np

from . import ablation, figures, runs
from .logs import LogError, RunLog

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.genome { font-family: monospace; font-size: 11px; max-width: 360px; }
td.genome summary { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 340px; cursor: pointer; }
div.scroll { overflow-x: auto; max-width: 100%; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
figure { margin: 16px 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 12px; color: #555; }
.note { background: #fff6d5; border: 1px solid #e6c84f; padding: 8px; font-size: 13px; }
pre { background: #f7f7f7; padding: 8px; font-size: 11px; overflow-x: auto; }
"""

# Tells a browser-driven check how many figures loaded (data-images-loaded on <body>).
SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img.figure');
  var ok = 0;
  imgs.forEach(function (i) { if (i.complete && i.naturalWidth > 0) ok++; });
  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);
});
"""

CAPTIONS = {
    "fig11_population": "Fig. 11: the population's fitness at the end of each epoch (mean ± std band, max, min).",
    "fig12_new_individuals": "Fig. 12: individuals inserted into the population per epoch; the dotted line is N_p x the epoch's GA rounds (every member new every round).",
    "fig13_fitness": "Fig. 13: the best individual's fitness (top-1 on N_v validation images) and its accuracy on "
                     "the whole validation split.",
    "search_training": "Supernet training loss and accuracy (each batch trains a sampled genome).",
    "diversity": "Population diversity: the mean share of genes that differ between two members of the "
                 "population at each epoch's end (its members are all distinct by construction), and the share of "
                 "each op among the population's op genes per cell.",
    "retrain": "Retrain: training loss; training and test accuracy. The headline figure is the final epoch's "
               "test accuracy (model_last.pt).",
    "lr": "Learning rate per epoch.",
    "steps": "Within epochs (the log's /step rows, every --log.every_steps steps): rank 0's training loss over the "
             "epoch so far, and the job's images per second, against the global training step.",
    "ground_truth": "NAS-Bench-201 searches run with the table: left, what the GA sees (the best member's fitness "
                    "in the young supernet); right, the truth (the table's test accuracy of the chosen cell, the "
                    "population's best and the population's mean, with the table's optimum and its mean cell as "
                    "dash-dotted lines, and the found cell's rank among the table's 15,625 cells). Fitness rising "
                    "while the truth falls is weight sharing misleading the search.",
    "ranking_over_epochs": "How the fitness's ranking changes with training (--nb201.rank_every): Kendall tau and "
                           "Spearman rho of each ranking of the ranking set against the table's test accuracy, by "
                           "epoch; the dotted line is what counting each cell's parameters gives on the same cells "
                           "(the floor a useful fitness should beat), 0 is a random order.",
    "ranking": "The fitness's ranking quality: each cell of the ranking set scored by the run's fitness (the "
               "supernet on the whole validation split after the epoch named, or a training-free score), against "
               "its table test accuracy; Kendall tau and Spearman rho of the two.",
}


# How each space's cells.dot is drawn (the report's caption under it).
CELL_CAPTIONS = {
    "paper": "Drawn like the paper's Fig. 14: the cell's inputs on top, one box per block (its two ops and their "
             "Add), the Concat of the unused blocks at the bottom.",
    "nb201": "The NAS-Bench-201 cell, left to right: nodes 0 (the cell's input) to 3 (its output), one arrow per "
             "edge labelled with its op; each node sums its incoming edges, and an edge whose op is none (dotted) "
             "carries nothing.",
}

# The [net] keys that only the paper's space uses: an nb201 run's config.ini still lists them (every
# run writes the whole resolved configuration), and the report leaves them out of its section.
PAPER_ONLY_NET_KEYS = ("blocks", "dropout", "compat", "share_slots")


def cell_caption(log) -> str:
    return CELL_CAPTIONS.get(log.space, f"The cell of the {log.space} space.")


def config_for_space(text: str, space: str) -> tuple:
    """(the configuration text without the keys the run's space does not use, those keys as
    "section.key"). The paper's space uses every key; lines are otherwise kept as written."""
    if space == "paper":
        return text, []
    out, left_out, section = [], [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
        elif section == "net" and "=" in stripped and not stripped.startswith(("#", ";")):
            key = stripped.split("=", 1)[0].strip()
            if key in PAPER_ONLY_NET_KEYS:
                left_out.append(f"net.{key}")
                continue
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else ""), left_out


def _img(path: Path, name: str, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img class="figure" alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)} (files: {html.escape(path.name)}, "
            f"{html.escape(path.with_suffix('.svg').name)})</figcaption></figure>")


def _search_of(log, logs):
    """The listed search run `log` (a retrain) was trained from, or None."""
    source = str(log.attrs.get("source_run", ""))
    if not source:
        return None
    return next((r for r in logs if r.is_search and str(r.run_dir.resolve()) == source), None)


def _grouped(logs) -> list:
    """`logs` with each retrain right after the listed search it came from."""
    order = []
    for log in logs:
        if _search_of(log, logs) is None:
            order.append(log)
            order += [r for r in logs if r is not log and _search_of(r, logs) is log]
    return order


def _run_table(logs, colours) -> str:
    rows, keys = runs.table(_grouped(logs))
    table_column = runs.with_table(rows)
    fitness_column, tau_columns = runs.with_fitness(rows), runs.with_tau(rows)
    source = runs.sources(rows)
    head = ["run", "command", "status", "epochs", "seed", "strategy", *(["fitness"] if fitness_column else []), *keys,
            "best fitness", "best full val [%]", "final test [%]",
            *(["NAS-Bench-201 table test [%]", "above % of the table's cells"] if table_column else []),
            *(["ranking tau (its fitness)", "ranking tau (params: the floor)"] if tau_columns else []),
            *(["from search (epoch)"] if source else []), "wall", "best genome"]
    out = ['<div class="scroll"><table><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for i, r in enumerate(rows):
        status = html.escape(r["status"]) + (f"<br><small>{html.escape(r['reason'])}</small>" if r["reason"] else "")
        swatch = f'<span class="swatch" style="background:{colours.get(r["run"], "#999")}"></span>'
        cells = [swatch + html.escape(r["run"]), html.escape(r["command"]), status,
                 f"{r['epochs_done']}/{r['epochs_planned']}", str(r["seed"]), html.escape(r["strategy"]),
                 *([html.escape(r["fitness"] or "-")] if fitness_column else []),
                 *[html.escape(r["config"].get(k, "-")) for k in keys],
                 runs._fixed(r["best_fitness"], 2), runs._fixed(r["best_val"], 2), runs._fixed(r["test_acc"], 2),
                 *([runs._fixed(r["table_test"], 2), runs._fixed(r["table_pct"], 1)] if table_column else []),
                 *([runs._fixed(r["rank_tau"], 3), runs._fixed(r["params_tau"], 3)] if tau_columns else []),
                 *([html.escape(source[i])] if source else []),
                 runs.duration(r["wall_s"])]
        genome = html.escape(r["best_genome"])
        # Collapsed: the genome's start, the whole of it on a click (a 60-gene genome made the table unreadable).
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) +
                   (f'<td class="genome"><details><summary>{genome}</summary>{genome}</details></td></tr>' if genome
                    else '<td class="genome"></td></tr>'))
    out.append("</table></div>")
    return "\n".join(out)


def write(logs: list, out: Path, refresh_seconds: float | None = None) -> Path:
    """Writes out/report.html and every figure (PNG + SVG) into `out`; returns the page's path.
    refresh_seconds: the page reloads itself that often (report --watch, while runs go on)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures.assign_colours(logs)
    colours = {r.name: r.colour for r in logs}
    reload = f"<meta http-equiv='refresh' content='{max(1, round(refresh_seconds))}'>" if refresh_seconds else ""
    watching = (f"<p class='note'>Watching: this page is rewritten every {refresh_seconds:g} s and reloads "
                "itself until every run has ended.</p>") if refresh_seconds else ""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'>{reload}<title>gnas report</title>"
             f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>",
             "<h1>gnas report</h1>", watching,
             f"<p>{len(logs)} run(s); generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC. "
             "Runs that differ only by their seed are drawn as one colour, mean ± std.</p>",
             "<h2>Runs</h2>", _run_table(logs, colours)]
    from .logs import SKIPPED
    for path, reason in SKIPPED:  # runs that could not be read: named, not fatal
        parts.append(f'<p class="note">Skipped {html.escape(path)}: {html.escape(reason)}</p>')

    every = [("lr", figures.fig_lr(figures.groups(logs)))] if logs else []
    if any(r.steps is not None and len(r.steps["step"]) for r in logs):
        every.append(("steps", figures.fig_steps(logs)))
    sections = [("Search", figures.search_figures(logs)), ("Retrain", figures.retrain_figures(logs)),
                ("All runs", every)]
    for title, figs in sections:
        if not figs:
            continue
        parts.append(f"<h2>{title}</h2>")
        for name, fig in figs:
            png, _svg = figures.save(fig, out, name)
            parts.append(_img(png, name, CAPTIONS.get(name, name)))

    found = ablation.detect(logs)
    if found:
        key, with_keys = found
        try:
            text = ablation.ablation(logs, key, out / "ablation_files", with_keys)
        except LogError as exc:
            parts.append(f'<p class="note">Ablation of {html.escape(key)} not drawn: {html.escape(str(exc))}</p>')
        else:
            parts.append(f"<h2>Ablation: {html.escape(key)}</h2>")
            along = f" (with {', '.join(with_keys)} set alike)" if with_keys else ""
            parts.append(_img(out / "ablation_files" / "ablation.png", "ablation",
                              f"The runs differ in {key}{along} and the seed: each metric against the value, the "
                              "mean with a 95% t interval over seeds (as the paper's Fig. 9, Fig. 10 and Table 1)."))
            parts.append("<pre>" + html.escape(text) + "</pre>")

    parts.append("<h2>Cells</h2>")
    drawn = 0
    for log in logs:
        search = _search_of(log, logs)
        if search is not None and np.array_equal(search.best_genome, log.best_genome):
            parts.append(f"<p>{html.escape(log.name)} retrains the cell of {html.escape(search.name)}"
                         f"{' (chosen after epoch ' + str(log.attrs.get('source_epoch')) + ')' if log.attrs.get('source_epoch') else ''}"
                         ", drawn in this section.</p>")
            continue
        text = figures.cell_dot(log, figures.cell_title(log))
        if text is None:
            parts.append(f"<p>{html.escape(log.name)}: no cells.dot yet (a search writes it after its first "
                         "full validation).</p>")
            continue
        try:
            png, _svg = figures.render_dot(text, out / f"cells_{figures.safe_name(log.name)}")
        except FileNotFoundError as exc:
            parts.append(f'<p class="note">{html.escape(str(exc))}</p>')
            break
        except ValueError as exc:
            parts.append(f'<p class="note">{html.escape(log.name)}: cells.dot not drawn: {html.escape(str(exc))}</p>')
            continue
        drawn += 1
        parts.append(_img(png, f"cells {log.name}", figures.cell_title(log) + ". " + cell_caption(log)))

    parts.append("<h2>Configuration</h2>")
    for log in logs:
        text = log.attrs.get("config", "")
        config_file = log.run_dir / "config.ini"
        if config_file.exists():
            text = config_file.read_text()
        text, left_out = config_for_space(text, log.space)
        note = (f"<p class=\"note\">Left out: {html.escape(', '.join(left_out))}, which the {html.escape(log.space)} "
                "space does not use.</p>" if left_out else "")
        parts.append(f"<details><summary>{html.escape(log.name)} ({html.escape(str(log.run_dir))})</summary>"
                     f"{note}<pre>{html.escape(text)}</pre></details>")
    parts.append("</body></html>")
    page = out / "report.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page
