"""Settings: one object, built from defaults, a TOML file, the environment and flags, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from unicat.errors import ConfigError
from unicat.settings import Settings, load_settings


def test_defaults_use_the_embedded_engine_under_the_data_dir() -> None:
    settings = load_settings()
    assert settings == Settings()
    assert settings.engine_url == "sqlite:///unicat-data/unicat.db"


def test_engine_follows_the_data_dir_when_only_the_data_dir_is_set(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path})
    assert settings.engine_url == f"sqlite:///{tmp_path}/unicat.db"


def test_precedence_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "unicat.toml"
    config.write_text('[unicat]\nport = 9000\nhost = "0.0.0.0"\nquery_timeout = 5\n', encoding="utf-8")
    settings = load_settings(config, {"UNICAT_PORT": "9100"}, {"port": None, "query_timeout": 1.5})
    assert settings.host == "0.0.0.0"  # from the file
    assert settings.port == 9100  # the environment beats the file; an unset flag (None) hides nothing
    assert settings.query_timeout == 1.5  # a flag beats both


def test_engine_url_from_environment() -> None:
    settings = load_settings(environ={"UNICAT_ENGINE": "sqlite:///tmp/x.db"})
    assert settings.engine_url == "sqlite:///tmp/x.db"


def test_the_store_is_the_index_file_by_default_and_the_data_dir_beside_elasticsearch(tmp_path: Path) -> None:
    assert Settings().resolved_store_url == "sqlite:///unicat-data/unicat.db"
    embedded = load_settings(overrides={"index_url": f"sqlite:///{tmp_path}/a.db"})
    assert embedded.resolved_store_url == embedded.index_url == f"sqlite:///{tmp_path}/a.db"
    beside = load_settings(overrides={"index_url": "http://127.0.0.1:9200", "data_dir": tmp_path})
    assert beside.resolved_store_url == f"sqlite:///{tmp_path}/unicat.db"
    named = load_settings(
        environ={"UNICAT_INDEX": "http://127.0.0.1:9200", "UNICAT_STORE": "postgresql://u@127.0.0.1:5432/db"}
    )
    assert (named.index_url, named.resolved_store_url) == (
        "http://127.0.0.1:9200",
        "postgresql://u@127.0.0.1:5432/db",
    )


def test_index_is_the_new_name_of_engine_and_wins_where_both_are_given(tmp_path: Path) -> None:
    config = tmp_path / "unicat.toml"
    config.write_text(
        '[unicat]\nindex_url = "http://127.0.0.1:9201"\nengine_url = "http://127.0.0.1:9202"\n',
        encoding="utf-8",
    )
    assert load_settings(config).index_url == "http://127.0.0.1:9201"
    both = {"UNICAT_ENGINE": "sqlite:///e.db", "UNICAT_INDEX": "sqlite:///i.db"}
    assert load_settings(environ=both).engine_url == "sqlite:///i.db"
    flags = {"engine_url": "sqlite:///e.db", "index_url": "sqlite:///i.db"}
    assert load_settings(overrides=flags).engine_url == "sqlite:///i.db"
    assert (
        load_settings(overrides={"engine_url": "sqlite:///e.db", "index_url": None}).index_url
        == "sqlite:///e.db"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[unicat]\nport = 'eighty'\n", "port must be a int"),
        ("[unicat]\ncolour = 'blue'\n", "unknown setting 'colour'"),
        ("[unicat\n", "not valid TOML"),
        ("[unicat]\nquery_timeout = -1\n", "must not be negative"),
        ("[unicat]\npage_size = 500\n", "page_size must be between"),
        ("[unicat]\nnew_feed_entries = 0\n", r"new_feed_entries must be between 1 and max_page_size \(100\)"),
        ("[unicat]\nnew_feed_entries = 101\n", "new_feed_entries must be between"),
        ("[unicat]\nheader_read_timeout = 0\n", "header_read_timeout, body_read_timeout and keep"),
        ("[unicat]\nmax_connections = 0\n", "max_connections and max_requests_in_flight must be at least 1"),
        ("[unicat]\nmax_requests_in_flight = 0\n", "max_connections and max_requests_in_flight"),
        ("[unicat]\nmax_connections_per_address = -1\n", "max_connections_per_address must not be negative"),
        ("[unicat]\ndefault_language = 'de'\n", "default_language must be one of en, fr, nl, got 'de'"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "unicat.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "absent.toml")


def test_settings_are_immutable_and_replace_makes_a_copy() -> None:
    settings = Settings()
    changed = settings.replace(port=1234)
    assert settings.port == 8080 and changed.port == 1234
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


MiB = 1024 * 1024


def test_harvest_limits_are_validated(tmp_path: Path) -> None:
    for bad in (
        {"record_max_bytes": 2 * MiB, "harvest_max_answer_bytes": MiB},
        {"harvest_page_time_limit": 0},
        {"harvest_run_time_limit": 0},
    ):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            load_settings(overrides={"data_dir": tmp_path, **bad})


def test_content_limits_come_from_the_settings_and_are_checked() -> None:
    limits = load_settings(overrides={"record_max_bytes": "5000", "subfield_max_bytes": "300"}).content_limits
    assert (limits.record_max_bytes, limits.subfield_max_bytes) == (5000, 300)
    with pytest.raises(ConfigError, match="record_max_bytes must be at least 1,000"):
        load_settings(overrides={"record_max_bytes": 999})
    with pytest.raises(ConfigError, match="subfield_max_bytes at least 1"):
        load_settings(overrides={"subfield_max_bytes": 0})


def test_network_languages_from_the_file_and_the_environment(tmp_path: Path) -> None:
    assert Settings().network_languages == ("fr", "nl", "en")
    config = tmp_path / "unicat.toml"
    config.write_text('[unicat]\nnetwork_languages = ["NL", "fr"]\n', encoding="utf-8")
    assert load_settings(config).network_languages == ("nl", "fr")
    assert load_settings(None, {}, {"network_languages": "en, nl"}).network_languages == ("en", "nl")
    assert load_settings(None, {}, {"network_languages": []}).network_languages == ()


def test_a_language_unicat_cannot_stem_is_refused_with_the_ones_it_can() -> None:
    with pytest.raises(ConfigError, match="'de' is not a language Unicat stems; use some of fr, nl, en"):
        load_settings(None, {}, {"network_languages": ["fr", "de"]})
    with pytest.raises(ConfigError, match="must be a list of language codes"):
        load_settings(None, {}, {"network_languages": 3})


def test_the_openurl_resolver_is_off_by_default_and_must_be_an_http_address() -> None:
    assert Settings().openurl_resolver == ""
    for good in ("https://resolver.example.org/openurl", "http://sfx.example.org/lib?inst=3"):
        assert load_settings(overrides={"openurl_resolver": good}).openurl_resolver == good
    for bad in ("resolver.example.org", "ftp://r.example.org/", "https://r.example.org/a b", "https://r/#x"):
        with pytest.raises(ConfigError, match="openurl_resolver must be the http:// or https:// address"):
            load_settings(overrides={"openurl_resolver": bad})


def test_request_limits_are_at_least_one_and_the_error_names_the_setting() -> None:
    settings = load_settings(overrides={"shuttle_max_open_per_patron": "2"})
    assert (settings.shuttle_max_open_per_patron, settings.shuttle_max_open_per_library) == (2, 200)
    for name in ("shuttle_max_open_per_patron", "shuttle_max_open_per_library"):
        with pytest.raises(ConfigError, match=f"{name} must be at least 1"):
            load_settings(overrides={name: 0})


def test_search_history_settings_are_checked_and_the_error_names_the_setting() -> None:
    settings = load_settings(overrides={"search_history_size": "7", "search_history_days": "1.5"})
    assert (settings.search_history_size, settings.search_history_days, settings.saved_searches_max) == (
        7,
        1.5,
        100,
    )
    for name, bad in (
        ("search_history_size", 0),
        ("search_history_size", 10_001),
        ("saved_searches_max", 0),
        ("search_history_days", 0),
        ("search_history_visitor_hours", 0),
    ):
        with pytest.raises(ConfigError, match=name):
            load_settings(overrides={name: bad})


def test_shards_and_replicas_come_from_the_environment_and_are_checked() -> None:
    settings = load_settings(environ={"UNICAT_ES_SHARDS": "3", "UNICAT_ES_REPLICAS": "1"})
    assert (settings.es_shards, settings.es_replicas) == (3, 1)
    with pytest.raises(ConfigError, match="es_shards must be at least 1"):
        load_settings(environ={"UNICAT_ES_SHARDS": "0"})
    with pytest.raises(ConfigError, match="es_replicas must not be negative"):
        load_settings(environ={"UNICAT_ES_REPLICAS": "-1"})
