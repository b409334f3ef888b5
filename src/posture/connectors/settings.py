"""Connection settings as stored -> the connector's typed settings, with one kind of error."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from posture.errors import ConfigurationError

SettingsModel = TypeVar("SettingsModel", bound=BaseModel)


def parse_settings(
    model: type[SettingsModel], connection: str, settings: dict[str, Any]
) -> SettingsModel:
    """Validate ``settings``; the first problem names the connection and the setting."""
    try:
        return model.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(
            f"connection '{connection}': setting '{field}': {message}"
        ) from exc
