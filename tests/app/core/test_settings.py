"""Settings that are made rather than read: Rasa's API token."""

from pathlib import Path

from app.core.settings import Settings


def test_rasas_token_is_made_once_kept_for_its_owner_and_shared_by_whoever_reads_it(tmp_path: Path) -> None:
    first = Settings(var_dir=tmp_path).rasa_api_token()
    again = Settings(var_dir=tmp_path).rasa_api_token()
    elsewhere = Settings(var_dir=tmp_path / "other").rasa_api_token()

    assert first == again and len(first) >= 40
    assert elsewhere != first
    assert (tmp_path / "rasa-token").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "rasa-token"]


def test_a_configured_rasa_token_wins_and_nothing_is_written(tmp_path: Path) -> None:
    assert Settings(var_dir=tmp_path, rasa_token="from-the-vault").rasa_api_token() == "from-the-vault"
    assert not (tmp_path / "rasa-token").exists()
