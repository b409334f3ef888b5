"""botocore's exceptions at sign-in -> one ``ConnectionFailure`` with a reason code.

An unreachable endpoint, a TLS mismatch, a web page where an API was expected and rejected
credentials all need a different fix; each gets its own code and a sentence that names the
connection and the endpoint.
"""

from __future__ import annotations

import re

import botocore.exceptions
from botocore.parsers import ResponseParserError

from posture.errors import ConnectionFailure, ConnectionReason, CredentialError

R = ConnectionReason

REJECTED_CODES = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "UnrecognizedClientException",
    "AuthFailure",
    "MissingAuthenticationToken",
    "InvalidSecurity",
    "AccessDenied",
    "AccessDeniedException",
}
EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
# sign-in calls whose AccessDenied means "these credentials may not sign in", not a missing grant
SIGN_IN_OPERATIONS = {"GetCallerIdentity", "AssumeRole"}
_DENIED_CODES = {"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"}
# reasons raised as CredentialError: the fix is in the credentials, not the endpoint
_CREDENTIAL_REASONS = {
    R.CREDENTIALS_REJECTED,
    R.TOKEN_EXPIRED,
    R.CREDENTIALS_MISSING,
    R.PROFILE_NOT_FOUND,
}

_HINTS = {
    R.ENDPOINT_UNREACHABLE: "check the endpoint URL, the network, DNS and any proxy "
    "(HTTPS_PROXY, NO_PROXY), then run: posture connection check",
    R.TLS_ERROR: "check that the URL's scheme matches the server (http or https) and that its "
    "certificate is trusted (AWS_CA_BUNDLE)",
    R.NOT_AWS: "the endpoint URL must point to an AWS API or a compatible service; "
    "check it with: posture connection check",
    R.CREDENTIALS_REJECTED: "check the profile, access key, role ARN and external id of the "
    "connection (posture connection check)",
    R.TOKEN_EXPIRED: "refresh the credentials (e.g. aws sso login) and check this machine's clock",
    R.CREDENTIALS_MISSING: "configure a profile, environment variables or an instance role for "
    "the connection",
    R.PROFILE_NOT_FOUND: "list the available profiles with: aws configure list-profiles",
}


def sign_in_failure(
    connection: str, endpoint: str | None, exc: BaseException, *, profile: str | None = None
) -> ConnectionFailure:
    """The failure of signing in to ``connection``, classified by what the user must fix."""
    reason, detail = classify(exc)
    called = getattr(exc, "kwargs", {}).get("endpoint_url")  # botocore's network errors say
    where = f"endpoint {endpoint}" if endpoint else f"the AWS endpoint {called or ''}".strip()
    if not endpoint and not called:
        where = "the default AWS endpoint"
    if reason is R.ENDPOINT_UNREACHABLE:
        text = f"{where} could not be reached ({detail})"
    elif reason is R.TLS_ERROR:
        text = f"the TLS connection to {where} failed ({detail})"
    elif reason is R.NOT_AWS:
        text = f"{where} did not answer like an AWS API ({detail})"
    elif reason is R.CREDENTIALS_REJECTED:
        text = f"{where} rejected the AWS credentials ({detail})"
    elif reason is R.TOKEN_EXPIRED:
        text = f"{where} refused the credentials as expired ({detail})"
    elif reason is R.CREDENTIALS_MISSING:
        text = f"no AWS credentials were found to sign in to {where} ({detail})"
    elif reason is R.PROFILE_NOT_FOUND:
        text = f"the AWS profile '{profile}' does not exist (needed to sign in to {where})"
    elif reason is R.PERMISSION_DENIED:
        text = f"signed in, but {where} denied a sign-in step ({detail})"
    elif reason is R.INVALID_SETTINGS:
        text = f"the settings cannot be used with {where} ({detail})"
    else:
        text = f"{where} answered with an error ({detail})"
    message = f"connection '{connection}': {text}"
    hint = _HINTS.get(reason)
    if reason is R.PERMISSION_DENIED:
        hint = "grant ec2:DescribeRegions, or list the regions to scan in the connection"
    kind = CredentialError if reason in _CREDENTIAL_REASONS else ConnectionFailure
    return kind(message, reason=reason, connection=connection, endpoint=endpoint, hint=hint)


def classify(exc: BaseException) -> tuple[ConnectionReason, str]:
    """Reason code and a short detail for an exception raised while signing in."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return _classify_answer(exc)
    if isinstance(exc, botocore.exceptions.SSLError):
        return R.TLS_ERROR, _network_detail(exc)
    if isinstance(
        exc,
        botocore.exceptions.ConnectionError
        | botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ConnectionClosedError,
    ):
        return R.ENDPOINT_UNREACHABLE, _network_detail(exc)
    if isinstance(exc, ResponseParserError):
        return R.NOT_AWS, _unreadable(exc)
    if isinstance(exc, KeyError):  # well-formed XML, but not the answer the operation has
        return R.NOT_AWS, f"the answer lacks the element {exc}"
    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        return R.PROFILE_NOT_FOUND, _short(exc)
    if isinstance(
        exc,
        botocore.exceptions.TokenRetrievalError
        | botocore.exceptions.UnauthorizedSSOTokenError
        | botocore.exceptions.SSOTokenLoadError,
    ):
        return R.TOKEN_EXPIRED, _short(exc)
    if isinstance(
        exc,
        botocore.exceptions.NoCredentialsError
        | botocore.exceptions.PartialCredentialsError
        | botocore.exceptions.CredentialRetrievalError,
    ):
        return R.CREDENTIALS_MISSING, _short(exc)
    if isinstance(exc, ValueError):  # botocore refuses a region or endpoint it cannot use
        return R.INVALID_SETTINGS, _short(exc)
    return R.PROVIDER_ERROR, f"{type(exc).__name__}: {_short(exc)}"


def _classify_answer(exc: botocore.exceptions.ClientError) -> tuple[ConnectionReason, str]:
    error = exc.response.get("Error") or {}
    code = str(error.get("Code") or "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if not code or code == "Unknown" or code.isdigit():
        # an AWS error always names itself; a bare status is a web server or proxy page
        return R.NOT_AWS, f"HTTP {status} without an AWS error code"
    detail = f"{code}: {_short(error.get('Message', ''))}".rstrip(": ")
    operation = exc.operation_name
    if code in EXPIRED_CODES:
        return R.TOKEN_EXPIRED, detail
    if code in _DENIED_CODES and operation not in SIGN_IN_OPERATIONS:
        return R.PERMISSION_DENIED, f"{operation}: {detail}"
    if code in REJECTED_CODES:
        return R.CREDENTIALS_REJECTED, detail
    return R.PROVIDER_ERROR, f"{operation}: {detail}"


def _network_detail(exc: botocore.exceptions.BotoCoreError) -> str:
    """The socket-level cause (refused, name not resolved, timed out), without the URL again."""
    cause = getattr(exc, "kwargs", {}).get("error")
    if cause is None:
        return _short(exc)
    text = str(cause)
    # urllib3 prefixes the connection object: "AWSHTTPConnection(host=..., port=...): Failed ..."
    if text.startswith("AWSHTTP") and "): " in text:
        text = text.split("): ", 1)[1]
    return _short(text)


def _unreadable(exc: ResponseParserError) -> str:
    """The parser's complaint plus the first bytes of the answer, without retry advice."""
    head, _, body = str(exc).partition("Further retries may succeed:")
    detail = _short(head).rstrip(" .,")
    body = _short(body, 80)
    return f"{detail}; the answer begins {body}" if body else detail


def _short(value: object, limit: int = 200) -> str:
    """One line, bounded: parser errors quote the whole page they could not read."""
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
