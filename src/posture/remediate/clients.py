"""The write credentials of a connection, opened as a ``ProviderClient``.

They are distinct from the scanning credentials: a connection's settings carry a ``write``
section (AWS: ``role_arn`` and/or ``profile``, assumed through STS). A connection without
one cannot be repaired: ``FixRefused`` names it and the command that adds them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.exceptions

from posture.connectors.aws.session import (
    AwsSettings,
    AwsWriteSettings,
    assume_role,
    client_configs,
)
from posture.connectors.settings import parse_settings
from posture.errors import FixRefused
from posture.remediate.registry import ProviderCallError, ProviderClient

WRITE_HINTS = {
    "aws": "posture connection set-write --tenant {tenant} --name {name} --role-arn ARN (or --profile NAME)",
}


def missing_write(provider: str, tenant: str, name: str) -> FixRefused:
    hint = WRITE_HINTS.get(provider, "setting repair of this provider needs write credentials")
    return FixRefused(
        f"connection '{name}' of tenant '{tenant}' has no write credentials for setting repair",
        reason="no_write_credentials",
        hint="add them with: " + hint.format(tenant=tenant, name=name),
    )


def has_write(settings: Mapping[str, Any]) -> bool:
    return bool(settings.get("write"))


def open_client(
    provider: str, tenant: str, name: str, settings: Mapping[str, Any]
) -> ProviderClient:
    if not has_write(settings):
        raise missing_write(provider, tenant, name)
    if provider != "aws":
        raise FixRefused(
            f"setting repair does not support provider '{provider}' yet (connection '{name}')",
            reason="provider_unsupported",
        )
    typed = parse_settings(AwsSettings, name, dict(settings))
    assert typed.write is not None
    return AwsWriteClient(name, typed, typed.write)


class AwsWriteClient:
    """boto3 calls made with the write role; ``service.operation`` names the client method."""

    def __init__(self, connection: str, settings: AwsSettings, write: AwsWriteSettings) -> None:
        self.connection = connection
        self.endpoint = settings.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.config, sign_in = client_configs(settings)
        base = boto3.session.Session(profile_name=write.profile)
        home = base.region_name or "us-east-1"
        self.session = base
        if write.role_arn:
            try:
                self.session = assume_role(
                    base,
                    write.role_arn,
                    write.external_id,
                    write.role_session_name,
                    home,
                    self.endpoint,
                    sign_in,
                )
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                raise FixRefused(
                    f"connection '{connection}': the write role {write.role_arn} could not "
                    f"be assumed: {exc}",
                    reason="write_sign_in_failed",
                ) from exc
        self._clients: dict[tuple[str, str], Any] = {}

    def call(
        self, service: str, operation: str, args: Mapping[str, Any], *, region: str
    ) -> dict[str, Any]:
        key = (service, region)
        if key not in self._clients:
            client = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint, config=self.config
            )
            if service == "s3control" and self.endpoint:
                from posture.connectors.aws.calls import _strip_account_host

                # a local endpoint has no <account>.host names: sign for the host called
                client.meta.events.register("before-sign.s3-control", _strip_account_host)
            self._clients[key] = client
        method = getattr(self._clients[key], operation, None)
        if method is None:
            raise ProviderCallError(f"{service} has no operation {operation}", code="unknown")
        try:
            answer = method(**args)
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            raise ProviderCallError(
                f"{service}.{operation} failed: {error.get('Message', exc)}",
                code=str(error.get("Code", "")),
            ) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise ProviderCallError(f"{service}.{operation} failed: {exc}") from exc
        answer.pop("ResponseMetadata", None)
        return dict(answer)
