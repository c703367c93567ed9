"""Your own data: a CSV table as a regression or classification task."""

import json

import pytest

from conftest import ROOT, assert_one_error_line, trials_in, write


def _table(tmp_path, text, name="t.csv"):
    return write(tmp_path / name, text)


ROWS = "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(40))


def test_the_shipped_table_example_trains_and_is_identified_by_its_content(cli, tmp_path):
    import shutil

    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    config = tmp_path / "configs" / "csv_regression.yaml"
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    (trial,) = trials_in(tmp_path / "results" / "csv_regression")
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["data"]["kind"] == "regression" and summary["data"]["n_test"] == 120  # 20% of 600 rows
    assert summary["final"]["test_mae"] < 6.0   # km; the table's own noise is about 4
    # the same config on an edited file is a new trial; the old one stays as it was
    table = tmp_path / "configs" / "data" / "distances.csv"
    table.write_text(table.read_text().replace("62.51,89.72", "62.5,89.72", 1))
    code, out, err = cli("run", config, "-q")
    assert code == 0 and "already holds" not in out
    assert len(trials_in(tmp_path / "results" / "csv_regression")) == 2
    # reproducing the first trial now fails loudly: its file is not the one it was trained on
    code, out, err = cli("reproduce", trial)
    assert code == 2 and "changed since this config was written" in err


@pytest.mark.parametrize("text, target, task", [
    pytest.param("a,b,label\n" + ROWS, "label", "classification", id="integer-labels"),
    pytest.param("a,b,kind\n" + "".join(f"{i},{i % 3},{'cat' if i % 2 else 'dog'}\n" for i in range(20)), "kind",
                 "classification", id="text-labels"),
    pytest.param("a,b,y\n" + "".join(f"{i},{i % 3},{i * 0.37:.2f}\n" for i in range(30)), "y", "regression", id="real-target"),
])
def test_the_task_is_inferred_from_the_target(cli, tmp_path, text, target, task):
    _table(tmp_path, text)
    config = write(tmp_path / "c.yaml", f"name: t\ndata: {{name: csv, path: t.csv, target: {target}, normalize: standard}}\n"
                                        f"model: {{hidden: [4]}}\nloss: {'cross_entropy' if task == 'classification' else 'mse'}\n"
                                        "train: {epochs: 2}\n")
    code, out, err = cli("run", config, "-q")
    assert code == 0, out + err
    (trial,) = trials_in(tmp_path / "results" / "t")
    assert json.loads((trial / "summary.json").read_text())["data"]["kind"] == task


@pytest.mark.parametrize("table, data, fragments", [
    pytest.param(None, "{name: csv}", ["data.path: name the CSV file"], id="no-path"),
    pytest.param(None, "{name: csv, path: missing.csv}", ["missing.csv: no such data file"], id="missing-file"),
    pytest.param("a,b,y\n" + ROWS, "{name: csv, path: t.csv, target: z}", ["no target column 'z'", "the columns are a, b, y"],
                 id="missing-target"),
    pytest.param("a,b,y\n" + ROWS, "{name: csv, path: t.csv, target: y, features: [a, c]}", ["no feature column 'c'"],
                 id="missing-feature"),
    pytest.param("a,b,y\n1,2,3\n4,x,6\n7,8,9\n1,1,1\n", "{name: csv, path: t.csv, target: y}",
                 ["column 'b' row 3: 'x' is not a number"], id="text-in-a-feature"),
    pytest.param("a,b,y\n1,2,3\n4,,6\n7,8,9\n1,1,1\n", "{name: csv, path: t.csv, target: y}",
                 ["column 'b' row 3: empty cell (NaN)"], id="empty-cell"),
    pytest.param("a,b\n1,2\n", "{name: csv, path: t.csv, target: b}", ["1 data rows"], id="too-few-rows"),
    pytest.param("a,b,y\n" + ROWS, "{name: csv, path: t.csv, target: input}", ["an autoencoder", "name a column"],
                 id="csv-autoencoder"),
    pytest.param("a,b,y\n" + ROWS, "{name: csv, path: t.csv, target: [a, y], task: classification}",
                 ["classification takes one target column"], id="two-class-targets"),
    pytest.param(None, "{name: xor, path: t.csv}", ["data.path is for name: csv"], id="path-on-xor"),
    pytest.param(None, "{name: xor, target: y}", ["data.target for xor is 'label' or 'input'"], id="column-target-on-xor"),
])
def test_bad_tables_get_one_clear_line(cli, tmp_path, table, data, fragments):
    if table is not None:
        _table(tmp_path, table)
    config = write(tmp_path / "c.yaml", f"name: t\ndata: {data}\nmodel: {{hidden: [4]}}\nloss: mse\ntrain: {{epochs: 1}}\n")
    assert_one_error_line(*cli("run", config), fragments, tmp_path / "results")
