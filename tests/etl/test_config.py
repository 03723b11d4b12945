"""Settings: where things live, and what may be shown of them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.config import Settings, masked_url

SECRET = st.text(alphabet=st.characters(blacklist_characters="@/:?#%", blacklist_categories=("Cs",)), min_size=3)


@given(password=SECRET)
def test_a_warehouse_password_is_never_shown(password):
    url = f"postgresql+psycopg://warehouse:{password}@db.example:5432/district"
    shown = masked_url(url)
    assert password not in shown.replace("warehouse", "").replace("db.example", "").replace("district", "")
    assert shown.startswith("postgresql+psycopg://warehouse:") and shown.endswith("@db.example:5432/district")


@pytest.mark.parametrize("url", ["sqlite:////tmp/w.sqlite", "postgresql+psycopg://postgres@127.0.0.1:5432/w"])
def test_a_url_without_a_password_is_shown_as_it_is(url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", url)
    assert Settings.from_env().warehouse_url_shown == url


def test_the_indicator_printout_masks_the_password(monkeypatch, capsys, tmp_path):
    """`python -m etl indicators` prints where the figures come from, without the password."""
    from etl.__main__ import main

    monkeypatch.setenv("SHARED_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql+psycopg://leader:s3cr3t-pw@127.0.0.1:1/none")
    with pytest.raises(Exception):  # noqa: B017 - nothing listens on port 1: the printout stops after the first line
        main(["indicators"])
    out = capsys.readouterr().out
    assert "warehouse: postgresql+psycopg://leader:***@127.0.0.1:1/none" in out and "s3cr3t-pw" not in out
