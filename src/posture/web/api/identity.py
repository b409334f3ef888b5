"""The caller itself (``/me``), users and API tokens, within the caller's rights."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query

from posture.operations.access import Role
from posture.operations.identity import (
    TokenInfo,
    add_user,
    create_token,
    disable_user,
    list_tokens,
    list_users,
    revoke_token,
    set_email,
    set_role,
)
from posture.web.api.models import (
    EmailRequest,
    Me,
    RoleRequest,
    TokenCreated,
    TokenOut,
    TokenRequest,
    UserCreated,
    UserOut,
    UserRequest,
)
from posture.web.deps import ApiOps, ApiPrincipal

router = APIRouter(tags=["identity"])


@router.get("/me", response_model=Me, summary="Who the caller is and what it may see")
def me(*, principal: ApiPrincipal) -> Me:
    scope = principal.tenant_scope
    return Me(
        user_id=principal.user_id,
        username=principal.username,
        role=str(principal.role),
        tenant=principal.tenant_id,
        scopes=sorted(principal.scopes) if principal.scopes is not None else None,
        tenants=sorted(scope) if scope is not None else None,
    )


@router.get("/users", response_model=list[UserOut], summary="Users the caller may manage")
def users(
    *, ops: ApiOps, tenant: str | None = Query(None, description="A tenant slug")
) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in list_users(ops, tenant)]


@router.post(
    "/users",
    response_model=UserCreated,
    status_code=201,
    summary="Add a user; it signs in with a one-time password and sets its own",
)
def add(*, ops: ApiOps, body: UserRequest) -> UserCreated:
    info, one_time = add_user(
        ops,
        body.username,
        role=Role(body.role),
        tenant=body.tenant,
        display_name=body.display_name,
        locale=body.locale,
        email=body.email,
    )
    assert one_time is not None  # no password was given
    return UserCreated(user=UserOut.model_validate(info), one_time_password=one_time)


@router.post(
    "/users/{username}/disable",
    response_model=UserOut,
    summary="Disable a user: its sessions end and its tokens stop working",
)
def disable(*, ops: ApiOps, username: str = Path(max_length=100)) -> UserOut:
    return UserOut.model_validate(disable_user(ops, username))


@router.post("/users/{username}/role", response_model=UserOut, summary="Change a user's role")
def role(*, ops: ApiOps, body: RoleRequest, username: str = Path(max_length=100)) -> UserOut:
    return UserOut.model_validate(set_role(ops, username, Role(body.role)))


@router.post(
    "/users/{username}/email",
    response_model=UserOut,
    summary="Set a user's e-mail address; single sign-on links the account by it",
)
def email(*, ops: ApiOps, body: EmailRequest, username: str = Path(max_length=100)) -> UserOut:
    return UserOut.model_validate(set_email(ops, username, body.email))


def _token(info: TokenInfo) -> TokenOut:
    return TokenOut(
        id=info.id,
        prefix=info.prefix,
        name=info.name,
        username=info.username,
        scopes=list(info.scopes) if info.scopes is not None else None,
        created_at=info.created_at,
        expires_at=info.expires_at,
        revoked_at=info.revoked_at,
        last_used_at=info.last_used_at,
        state=info.state(),
    )


@router.get("/tokens", response_model=list[TokenOut], summary="API tokens the caller may see")
def tokens(*, ops: ApiOps, username: str | None = Query(None, max_length=100)) -> list[TokenOut]:
    return [_token(t) for t in list_tokens(ops, username)]


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="Create an API token for the caller (its secret is shown once)",
)
def create(*, ops: ApiOps, principal: ApiPrincipal, body: TokenRequest) -> TokenCreated:
    info, secret = create_token(
        ops,
        principal.username,
        name=body.name,
        scopes=body.scopes,
        expires_days=body.expires_days,
    )
    return TokenCreated(token=_token(info), secret=secret)


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut, summary="Revoke a token")
def revoke(*, ops: ApiOps, token_id: str = Path(max_length=64)) -> TokenOut:
    return _token(revoke_token(ops, token_id))
