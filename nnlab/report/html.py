"""A report's page: a self-contained index.html (figures inlined) with its tables, for a
trial or a study (``write_pages``); ``report/__init__.py`` puts the folder in place."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

from ..errors import ConfigError
from ..results import fsio
from ..results.csvtext import plain_cell
from ..results.manifest import JSON_LIMIT
from ..results.rows import study_table, write_summary_csv
from ..results.status import FINISHED_STATUSES
from ..results.store import folder_status, is_trial, trial_dirs
from .cache import cached_plot, render_in_parallel
from .plots import SEVERITY_COLORS, plot_study

# ---------------------------------------------------------------- trial plots

def rows_frame(rows: list[dict], axes: list[str]):
    """A study's rows (``results.rows.study_table``) as a DataFrame; lists and mappings in the
    swept columns become text, and a null value the text 'null' (as in trial folder names),
    so that they compare and label alike (a missing value, NaN, equals nothing)."""
    import pandas as pd

    table = pd.DataFrame.from_records(rows)
    for axis in axes:
        if axis in table:
            table[axis] = [plain_cell(v) if isinstance(v, (list, dict)) else "null" if _missing(v) else v
                           for v in table[axis]]
    return table


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


# ---------------------------------------------------------------- html

def _img(path: Path) -> str:
    data = base64.b64encode(fsio.read_bytes(path)).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(path.name)}">'


def _events_html(events: list[dict]) -> str:
    if not events:
        return "<p class=muted>No events.</p>"
    items = "".join(
        f'<li><b style="color:{SEVERITY_COLORS[e["severity"]]}">{e["severity"]}</b> '
        f'<code>{html.escape(e["type"])}</code> {html.escape(e["message"])}</li>' for e in events)
    return f"<ul>{items}</ul>"


def _table_html(table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in table.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _answer(study: Path, table, axes: list[str], out: Path) -> tuple[str, list[Path]]:
    """groups.csv and comparisons.csv, and the page's answer: the comparison sentences and
    the group table (mean ± 95% interval of the primary metric per configuration)."""
    from ..results.csvtext import to_csv
    from .groups import add_convergence, comparisons, epochs_to_target, group_rows, primary_metric

    if table.empty:
        return "", []
    groups = group_rows(table, axes)
    add_convergence(groups, table, axes, epochs_to_target(study, table, groups, axes))
    compared = comparisons(table, axes)
    (out / "groups.csv").write_text(to_csv(groups))
    (out / "comparisons.csv").write_text(to_csv(compared))
    found = primary_metric(table)
    html_parts = ["<h2>Answer</h2>"]
    if compared:
        html_parts.append("<ul>" + "".join(f"<li>{html.escape(c['sentence'])}</li>" for c in compared) + "</ul>")
    else:
        html_parts.append("<p class=muted>Nothing to compare: one configuration (or no finished trial).</p>")
    if found:
        metric = found[0]
        shown = [c for c in groups[0] if c in [a for a in axes if a != "seed"]]
        lines = []
        for g in groups:
            mean, half = g.get(f"{metric}_mean"), g.get(f"{metric}_ci95")
            value = "" if mean is None else f"{mean:.4g}" + (f" ± {half:.2g}" if half is not None else " (n = 1)")
            lines.append({**{a: g[a] for a in shown}, "n": g["n"], f"{metric} (mean ± 95% CI)": value,
                          "complete / diverged / failed": f"{g['complete']} / {g['diverged']} / {g['failed']}",
                          "epochs to target": g.get("epochs_to_target_mean"),
                          "reached": g.get("reached_target"), "majority events": g.get("majority_events")})
        import pandas as pd

        html_parts.append(f"<h3>Groups (over seeds)</h3>{_table_html(pd.DataFrame.from_records(lines))}"
                          f"<p class=muted>Epochs to target: first epoch at which {html.escape(metric.replace('final_', ''))} "
                          f"reaches 95% of the best group's mean final value. All statistics per group: groups.csv; "
                          f"comparisons: comparisons.csv.</p>")
    return "".join(html_parts), [out / "groups.csv", out / "comparisons.csv"]


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title><style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1300px;color:#222}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:12px}} td,th{{border:1px solid #ddd;padding:3px 6px;text-align:right}}
th{{background:#f4f6f7}} code{{background:#f4f6f7;padding:0 3px}} .muted{{color:#888}} li{{margin:.3em 0}}
details{{margin:.5em 0}} summary{{cursor:pointer}}</style></head><body>{body}
<script>window.addEventListener("load", function () {{
  var images = document.images, ok = 0;
  for (var i = 0; i < images.length; i++) if (images[i].complete && images[i].naturalWidth > 0) ok++;
  document.body.setAttribute("data-images", ok + "/" + images.length);
  if (ok < images.length) {{
    var p = document.createElement("p"); p.style.color = "#c0392b";
    p.textContent = (images.length - ok) + " of " + images.length + " images failed to load (a damaged report file?)";
    document.body.insertBefore(p, document.body.firstChild);
  }}
}});</script></body></html>"""


def trial_section(trial: Path, out: Path, heading: str = "h2") -> tuple[str, list[Path]]:
    """HTML for one trial and the PNGs it wrote; a corrupt trial is named, not plotted."""
    status, summary = folder_status(trial)
    title = f"<{heading}>{html.escape(trial.name)}</{heading}>"
    if status == "corrupt":
        return (f'{title}<p>status <b style="color:{SEVERITY_COLORS["error"]}">corrupt</b>: '
                f"{html.escape(str(summary.get('error')))}. Its numbers are not shown; "
                "<code>nnlab sweep --retry</code> or <code>nnlab run --force</code> trains it again.</p>"), []
    png = cached_plot(trial, out / f"{trial.name}.png", "curves")
    extra = cached_plot(trial, out / f"{trial.name}-reconstructions.png", "reconstructions")
    final = summary.get("final") or {}
    cells = ", ".join(f"{k} {v:.4g}" for k, v in final.items()
                      if isinstance(v, (int, float)) and "/" not in k and k not in ("epoch", "step", "grad_norm", "lr"))
    error = f"<p>error: {html.escape(str(summary['error']))}</p>" if summary.get("error") else ""
    images = [png] + ([extra] if extra else [])
    return (f"{title}<p>status <b>{html.escape(str(status))}</b>, {summary.get('epochs_run')} epochs; "
            f"final: {html.escape(cells)}</p>{_setup_html(trial, summary)}{error}{_events_html(summary.get('events') or [])}"
            + "".join(_img(p) for p in images)), images


def _study_setup_html(study: Path) -> str:
    """The study's description and the settings every trial shares (swept keys say so)."""
    import yaml

    try:
        record = yaml.safe_load(fsio.read_text(study / "study.yaml", JSON_LIMIT)) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError, ValueError):
        return ""
    base = record.get("base") if isinstance(record, dict) else None
    if not isinstance(base, dict):
        return ""
    swept = {a.split(".")[0] for a in record.get("axes") or []}
    rows = []
    if base.get("description"):
        rows.append(("description", str(base["description"])))
    for key in ("data", "model", "loss", "optimizer", "schedule", "train", "regularization"):
        value = base.get(key)
        if value is None:
            continue
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip() if isinstance(value, (dict, list)) else str(value)
        rows.append((key + (" (partly swept)" if key in swept else ""), text))
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<details><summary>Setup shared by the trials</summary><table>{cells}</table></details>" if cells else ""


def _setup_html(trial: Path, summary: dict) -> str:
    """What was trained: description, data, model, loss, optimizer, schedule, batches."""
    import yaml

    try:
        config = yaml.safe_load(fsio.read_text(trial / "config.yaml", JSON_LIMIT)) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError, ValueError):
        return ""
    if not isinstance(config, dict):
        return ""
    model, data, train = summary.get("model") or {}, summary.get("data") or {}, config.get("train") or {}
    optimizer = config.get("optimizer") or {}
    schedule = config.get("schedule")
    parts = [("description", config.get("description")),
             ("data", f"{data.get('name')} ({data.get('n_train')} train, {data.get('n_val')} val, {data.get('n_test')} test)"
              if data else None),
             ("model", f"{model.get('layers')} ({model.get('n_params')} parameters)" if model else None),
             ("loss", model.get("loss")),
             ("optimizer", ", ".join(f"{k} {v}" for k, v in optimizer.items()) if isinstance(optimizer, dict) else None),
             ("schedule", ", ".join(f"{k} {v}" for k, v in schedule.items()) if isinstance(schedule, dict) else None),
             ("training", f"{train.get('epochs')} epochs, batch {train.get('batch_size')}, {train.get('dtype')}, "
                          f"seed {config.get('seed')}" if train else None)]
    rows = "".join(f"<tr><th>{k}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in parts if v)
    return f"<table>{rows}</table>" if rows else ""


def write_pages(path: Path, out: Path) -> list[Path]:
    """index.html, its figures and tables for a trial or study folder ``path``, into ``out``."""
    if is_trial(path):
        section, written = trial_section(path, out, "h2")
        body = f"<h1>nnlab trial report</h1>{section}"
        title = path.name
    else:
        from .groups import natural_key

        trials = sorted(trial_dirs(path), key=lambda t: natural_key(t.name))  # [5] before [100]
        if not trials:
            raise ConfigError(f"{path}: neither a trial folder nor a study folder (no trial folders inside)")
        study = study_table(path)
        all_axes, every = study.axes, study.rows
        rows = [r for r in every if r["status"] in FINISHED_STATUSES]
        write_summary_csv(path, rows, out / "summary.csv")
        table = rows_frame(rows, all_axes)
        axes = [a for a in all_axes if a != "seed"]
        plotted = table[table["status"] != "corrupt"] if len(table) else table
        answer, tables = _answer(path, table, all_axes, out)
        written = [out / "summary.csv", *tables] + plot_study(path, plotted, axes, out)
        counts: dict[str, int] = {}
        for r in every:   # pending and running trials of a study still going are counted too
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        sections = []
        render_in_parallel(trials, out / "trials")
        for trial in trials:
            section, pngs = trial_section(trial, out / "trials", "h3")
            sections.append(f"<details><summary>{html.escape(trial.name)} — {html.escape(folder_status(trial)[0])}"
                            f"</summary>{section}</details>")
            written += pngs
        body = (f"<h1>nnlab study report: {html.escape(path.name)}</h1>"
                f"<p>{len(every)} trials: {html.escape(', '.join(f'{n} {s}' for s, n in counts.items()))}. "
                f"Configurations differ in: {html.escape(', '.join(axes) or 'nothing but seeds')}.</p>"
                + _kernels_html(rows) + _study_setup_html(path) + answer
                + "".join(_img(p) for p in written if p.suffix == ".png" and p.parent == out)
                + f"<h2>Trials</h2>{_table_html(table)}<h2>Each trial</h2>{''.join(sections)}")
        title = path.name
    index = out / "index.html"
    index.write_text(PAGE.format(title=html.escape(title), body=body))
    return [index, *written]


def _kernels_html(rows: list[dict]) -> str:
    """A warning when the study's trials were computed with different arithmetic (kernels):
    their numbers are not the bytes one machine gives, and groups may pool both."""
    kinds: dict[str, int] = {}
    for row in rows:
        if row.get("kernels"):
            kinds[row["kernels"]] = kinds.get(row["kernels"], 0) + 1
    if len(kinds) < 2:
        return ""
    listed = "; ".join(f"{n} trial(s) with {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return (f'<p style="color:{SEVERITY_COLORS["warn"]}"><b>Mixed arithmetic:</b> these trials were computed with '
            f"different kernels ({html.escape(listed)}), so their numbers are not the bytes one machine gives; groups "
            f"pool them (see the kernels column).</p>")
