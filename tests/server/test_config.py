"""Settings of `pairflow serve`: CLI > environment > config file > defaults; bad values name the source."""

from __future__ import annotations

import pytest

from pairflow.server.config import ConfigError, load_settings, parse_config_file


def _key() -> str:
    return "generated-key-000"


def test_command_line_beats_environment_beats_file_beats_defaults() -> None:
    file_settings = parse_config_file(
        'port = 7000\nlocation = "file"\nresponse-timeout = 5\napi_keys = ["file-key-123"]\n', "serve.toml"
    )
    env = {"PAIRFLOW_PORT": "8000", "PAIRFLOW_LOCATION": "env"}
    settings = load_settings({"port": "9000"}, env, file_settings, "serve.toml", make_key=_key)
    assert (settings.port, settings.location, settings.response_timeout) == (9000, "env", 5.0)
    assert settings.api_keys == ("file-key-123",)
    assert settings.api_key_generated is False
    assert settings.host == "127.0.0.1"
    assert settings.max_body_bytes == 10 * 1024 * 1024
    assert settings.missed_occurrences == "skip"


def test_api_keys_come_from_repeated_options_or_a_comma_list_else_one_is_generated() -> None:
    assert load_settings({"api_keys": ("a-key-12345", "b-key-12345")}, {}).api_keys == (
        "a-key-12345",
        "b-key-12345",
    )
    from_env = load_settings({}, {"PAIRFLOW_API_KEYS": "x-key-12345, y-key-12345"})
    assert from_env.api_keys == ("x-key-12345", "y-key-12345")
    generated = load_settings({}, {}, make_key=_key)
    assert (generated.api_keys, generated.api_key_generated) == (("generated-key-000",), True)


def test_json_config_files_are_read_by_extension() -> None:
    assert parse_config_file('{"missed_occurrences": "fire-all"}', "serve.json") == {
        "missed_occurrences": "fire-all"
    }


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        ({"port": "70000"}, {}, "--port: expected a port number 0-65535, got '70000'"),
        ({}, {"PAIRFLOW_RESPONSE_TIMEOUT": "-1"}, "$PAIRFLOW_RESPONSE_TIMEOUT: expected a positive number"),
        ({"missed_occurrences": "sometimes"}, {}, "--missed-occurrences: expected one of skip, fire-latest"),
        ({"max_body_bytes": "lots"}, {}, "--max-body-bytes: expected an integer, got 'lots'"),
        ({"api_keys": ("short",)}, {}, "--api-key: an API key must have at least 8 characters"),
        ({"location": "we st"}, {}, "--location: expected letters, digits"),
    ],
)
def test_bad_values_are_refused_naming_where_they_came_from(
    cli: dict[str, object], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(cli, env, make_key=_key)
    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message


def test_unknown_or_malformed_config_file_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        parse_config_file('colour = "blue"', "serve.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        parse_config_file("port = ", "serve.toml")
