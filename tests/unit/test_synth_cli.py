"""``breakbounce generate``: arguments, errors, progress and summary lines."""

from __future__ import annotations

import json

import pytest

from breakbounce.cli import main


def _run(capsys, *args):
    code = main(["generate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_generate_one_session(tmp_path, capsys):
    code, out, err = _run(
        capsys,
        "--start-date",
        "2025-12-13",
        "--end-date",
        "2025-12-15",
        "--out",
        str(tmp_path / "bronze"),
        "--seed",
        "5",
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1  # 13th/14th are a weekend: only the 15th is generated
    assert lines[0].startswith("2025-12-15 trades=") and "mbp10=" in lines[0] and "seconds=" in lines[0]
    assert "generating 2025-12-15" in err
    truth = json.loads((tmp_path / "bronze" / "_truth" / "date=2025-12-15" / "truth.json").read_text())
    assert truth["seed"] == 5 and truth["scale"] == "test" and truth["session_date"] == "2025-12-15"
    for key in (
        "front_symbol",
        "back_symbol",
        "regime",
        "es_spy_ratio_model",
        "spx_spy_ratio",
        "mean_basis_spy",
        "duplicates",
        "rows",
        "events",
        "book_plants",
        "gamma_walls",
        "skipped_events",
    ):
        assert key in truth
    assert truth["es_spy_ratio_model"] == 10.0 and 9.98 <= truth["spx_spy_ratio"] <= 10.06
    assert truth["regime"]["name"] in ("quiet", "normal", "volatile")
    assert 0.10 <= truth["regime"]["sigma_atm"] <= 0.25
    assert (tmp_path / "bronze" / "futures" / "trades" / "symbol=ES").is_dir()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--start-date", "2025-12-20", "--end-date", "2025-12-20"], "not an NYSE trading session"),
        (["--start-date", "2025-12-20", "--end-date", "2025-12-21"], "no trading session"),
        (["--start-date", "2025-12-16", "--end-date", "2025-12-15"], "before --start-date"),
        (["--start-date", "1990-01-02", "--end-date", "1990-01-03"], "outside the trading calendar"),
        (["--start-date", "2025-12-16", "--end-date", "2025-12-16", "--seed", "-1"], "--seed"),
        (
            ["--start-date", "2025-12-16", "--end-date", "2025-12-16", "--scenario", "/nonexistent.json"],
            "cannot read scenario",
        ),
    ],
)
def test_bad_arguments_are_one_line_user_errors(tmp_path, capsys, args, message):
    code, out, err = _run(capsys, *args, "--out", str(tmp_path))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # nothing written


def test_bad_scenario_file(tmp_path, capsys):
    sc = tmp_path / "sc.json"
    sc.write_text(json.dumps({"events": [{"level": "PM_HIGH", "at": "09:35"}]}))
    code, _, err = _run(
        capsys,
        "--start-date",
        "2025-12-16",
        "--end-date",
        "2025-12-16",
        "--out",
        str(tmp_path / "b"),
        "--scenario",
        str(sc),
    )
    assert code == 2 and "09:46" in err
    sc.write_text("{not json")
    code, _, err = _run(
        capsys,
        "--start-date",
        "2025-12-16",
        "--end-date",
        "2025-12-16",
        "--out",
        str(tmp_path / "b"),
        "--scenario",
        str(sc),
    )
    assert code == 2 and "not valid JSON" in err


def test_bad_date_format_and_scale_are_usage_errors(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--start-date", "16/12/2025", "--end-date", "2025-12-16", "--out", str(tmp_path)])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "generate",
                "--start-date",
                "2025-12-16",
                "--end-date",
                "2025-12-16",
                "--out",
                str(tmp_path),
                "--scale",
                "huge",
            ]
        )
    assert exc.value.code == 2
